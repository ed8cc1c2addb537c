"""Process management with stand-in commands (python -c ..., http.server), not the real parts."""

import io
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.emulator import free_port
from infra.processes import (
    ChildProcess,
    LogDirectory,
    PrefixedStdout,
    ProcessStartError,
    child_environment,
    start_api,
    start_worker,
    stop_all,
)

PYTHON = sys.executable
IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('started', flush=True); time.sleep(60)"
)


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[LogDirectory]:
    directory = LogDirectory(tmp_path / "logs")
    yield directory
    directory.close()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_child_environment_drops_the_parents_aws_variables() -> None:
    parent = {"PATH": "/bin", "AWS_PROFILE": "prod", "AWS_SECRET_ACCESS_KEY": "real"}
    env = child_environment(
        {"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "JOBS_TABLE": "a"},
        {"JOBS_TABLE": "b"},
        None,
        environ=parent,
    )
    assert env["PATH"] == "/bin"
    assert "AWS_PROFILE" not in env
    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
    assert env["JOBS_TABLE"] == "b"
    assert env["PYTHONUNBUFFERED"] == "1"


def test_output_goes_to_a_log_file_per_process(logs: LogDirectory) -> None:
    process = ChildProcess(
        "echo", [PYTHON, "-c", "print('one'); print('two')"], child_environment(), logs
    )
    assert process.wait(10) == 0
    process.stop(grace=1)
    assert logs.path("echo").read_text() == "one\ntwo\n"
    assert process.recent_output() == "one\ntwo"


def test_prefixed_stdout_names_each_line() -> None:
    stream = io.StringIO()
    PrefixedStdout(stream).write_line("api", "hello")
    assert stream.getvalue() == "api     | hello\n"


def test_start_api_waits_for_health(tmp_path: Path, logs: LogDirectory) -> None:
    (tmp_path / "health").write_text("ok")
    port = free_port()
    stand_in = [PYTHON, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    stand_in += ["--directory", str(tmp_path)]
    api = start_api(child_environment(), logs, port=port, argv=stand_in)
    try:
        assert api.running
    finally:
        api.stop(grace=5)
    assert not api.running


def test_start_api_reports_the_childs_output_when_it_dies(logs: LogDirectory) -> None:
    crash = [PYTHON, "-c", "import sys; print('no settings: JOBS_TABLE'); sys.exit(3)"]
    with pytest.raises(ProcessStartError) as failure:
        start_api(child_environment(), logs, port=free_port(), argv=crash, timeout=10)
    message = str(failure.value)
    assert "exited with code 3" in message
    assert "no settings: JOBS_TABLE" in message


def test_start_api_times_out_with_a_clear_error(logs: LogDirectory) -> None:
    silent = [PYTHON, "-c", "print('booting', flush=True); import time; time.sleep(30)"]
    with pytest.raises(ProcessStartError, match=r"did not answer .*/health") as failure:
        start_api(child_environment(), logs, port=free_port(), argv=silent, timeout=1)
    assert "booting" in str(failure.value)


def test_stop_kills_what_ignores_sigterm(logs: LogDirectory) -> None:
    process = start_worker(child_environment(), logs, argv=[PYTHON, "-c", IGNORES_SIGTERM])
    process.wait_for_output("started", timeout=10)
    started = time.monotonic()
    assert process.stop(grace=0.5) == -signal.SIGKILL
    assert time.monotonic() - started < 5


def test_sigterm_reaches_the_main_process_only(logs: LogDirectory) -> None:
    # The parent exits on SIGTERM; its child must be left running until the group is killed.
    script = (
        "import subprocess, sys, time; "
        f"child = subprocess.Popen([sys.executable, '-c', {IGNORES_SIGTERM!r}]); "
        "print('child', child.pid, flush=True); "
        "child.wait()"
    )
    process = start_worker(child_environment(), logs, argv=[PYTHON, "-c", script])
    child_pid = int(process.wait_for_output(r"^child \d+", timeout=10).split()[1])
    process.wait_for_output("started", timeout=10)
    process.terminate()
    process.wait(10)
    assert not _gone(child_pid)
    process.stop(grace=0)
    deadline = time.monotonic() + 5
    while not _gone(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child_pid)


def test_stop_all_leaves_nothing_running(logs: LogDirectory) -> None:
    processes = [
        start_worker(child_environment(), logs, name=f"w{n}", argv=[PYTHON, "-c", IGNORES_SIGTERM])
        for n in range(3)
    ]
    for process in processes:
        process.wait_for_output("started", timeout=10)
    stop_all(processes, grace=0.5)
    assert all(_gone(process.pid) for process in processes)


def test_wait_for_output_fails_when_the_process_ends_without_it(logs: LogDirectory) -> None:
    process = start_worker(child_environment(), logs, argv=[PYTHON, "-c", "print('bye')"])
    with pytest.raises(ProcessStartError, match="printed no line matching"):
        process.wait_for_output("ready", timeout=10)
    process.stop(grace=1)
