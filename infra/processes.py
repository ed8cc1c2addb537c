"""The local stack's own processes (the API under uvicorn, Celery workers) as children of ours.

Each child runs in its own process group so that stopping it also ends whatever it forked
(Celery's pool processes), and its output is kept line by line for error messages.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_API_PORT = 8000
DEFAULT_GRACE_SECONDS = 10.0
LINES_KEPT = 200
SCHEDULER_FUNCTION = "SchedulerFunction"
# What infra.scheduler_runner prints once its function's handler is imported and it is waiting.
SCHEDULER_READY = "scheduler ready"
LIGHT_FUNCTION = "LightFunction"
# What infra.light_lane_runner prints once it polls the light queue.
LIGHT_READY = "light lane ready"


class ProcessStartError(RuntimeError):
    pass


class OutputSink(Protocol):
    def write_line(self, name: str, line: str) -> None: ...

    def close(self) -> None: ...


class PrefixedStdout:
    """Every child's lines on our stdout, each prefixed with the child's name (for ``make up``)."""

    def __init__(self, stream: IO[str] | None = None, width: int = 8) -> None:
        self._stream = stream or sys.stdout
        self._width = width
        self._lock = threading.Lock()

    def write_line(self, name: str, line: str) -> None:
        with self._lock:
            self._stream.write(f"{name:<{self._width}}| {line}\n")
            self._stream.flush()

    def close(self) -> None:
        self._stream.flush()


class LogDirectory:
    """Each child's lines in ``<directory>/<name>.log`` (for tests, which read them on failure)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._files: dict[str, IO[str]] = {}
        self._lock = threading.Lock()

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.log"

    def write_line(self, name: str, line: str) -> None:
        with self._lock:
            log = self._files.get(name)
            if log is None:
                log = self._files[name] = self.path(name).open("a", encoding="utf-8")
            log.write(line + "\n")
            log.flush()

    def close(self) -> None:
        with self._lock:
            for log in self._files.values():
                log.close()
            self._files.clear()


def child_environment(
    *layers: Mapping[str, str] | None, environ: Mapping[str, str] = os.environ
) -> dict[str, str]:
    """Our environment without its AWS_* variables, then each layer over it in order.

    The parent's AWS_* (a profile, real credentials, another endpoint) must never reach a
    process that is meant to talk only to the emulator.
    """
    env = {name: value for name, value in environ.items() if not name.startswith("AWS_")}
    for layer in layers:
        env.update(layer or {})
    # Lines reach our output as they are printed, not when a block buffer fills.
    env["PYTHONUNBUFFERED"] = "1"
    return env


def api_command(port: int = DEFAULT_API_PORT) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "functions.api.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def worker_command() -> list[str]:
    return [sys.executable, "-m", "functions.worker"]


def scheduler_command(
    stack_name: str, start: datetime | None = None, function: str = SCHEDULER_FUNCTION
) -> list[str]:
    argv = [sys.executable, "-m", "infra.scheduler_runner", "--stack-name", stack_name]
    argv += ["--function", function]
    if start is not None:
        argv += ["--start", start.isoformat()]
    return argv


def light_command(stack_name: str, function: str = LIGHT_FUNCTION) -> list[str]:
    return [
        sys.executable,
        "-m",
        "infra.light_lane_runner",
        "--stack-name",
        stack_name,
        "--function",
        function,
    ]


class ChildProcess:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        output: OutputSink,
        cwd: Path = REPO_ROOT,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self._output = output
        self._lines: deque[str] = deque(maxlen=LINES_KEPT)
        self._lines_changed = threading.Condition()
        self._popen = subprocess.Popen(
            self.argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._reader = threading.Thread(
            target=self._read_output, name=f"{name}-output", daemon=True
        )
        self._reader.start()

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        return self._popen.poll()

    @property
    def running(self) -> bool:
        return self._popen.poll() is None

    def _read_output(self) -> None:
        assert self._popen.stdout is not None
        with self._popen.stdout:
            for raw in self._popen.stdout:
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                with self._lines_changed:
                    self._lines.append(line)
                    self._lines_changed.notify_all()
                self._output.write_line(self.name, line)

    def recent_output(self, lines: int = 50) -> str:
        with self._lines_changed:
            return "\n".join(list(self._lines)[-lines:])

    def describe_failure(self, problem: str) -> str:
        code = self.returncode
        state = "still running" if code is None else f"exited with code {code}"
        return (
            f"{self.name} ({' '.join(self.argv)}) {problem}; it is {state}.\n"
            f"--- last lines of {self.name} ---\n{self.recent_output()}"
        )

    def wait_for_output(self, pattern: str, timeout: float = 30.0) -> str:
        """The first kept line matching ``pattern``, waiting for it to be printed."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._lines_changed:
            while True:
                for line in self._lines:
                    if regex.search(line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (not self.running and not self._reader.is_alive()):
                    raise ProcessStartError(
                        self.describe_failure(f"printed no line matching {pattern!r}")
                    )
                self._lines_changed.wait(min(remaining, 0.2))

    def send_signal(self, signum: int) -> None:
        """Signal the main process only, as ECS signals a container's PID 1.

        Celery's warm shutdown on SIGTERM relies on this: its pool processes must not get the
        signal themselves.
        """
        if self.running:
            self._popen.send_signal(signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL the whole group, as when a container or machine dies."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._popen.pid, signal.SIGKILL)
        self._popen.wait()

    def wait(self, timeout: float | None = None) -> int:
        return self._popen.wait(timeout)

    def stop(self, grace: float = DEFAULT_GRACE_SECONDS) -> int:
        """SIGTERM, then SIGKILL after ``grace`` seconds; returns the exit code."""
        self.terminate()
        return self.wait_or_kill(grace)

    def wait_or_kill(self, grace: float) -> int:
        """Wait up to ``grace`` seconds for the process to exit, then SIGKILL its group.

        Signals are sent once: a second SIGTERM can cut Celery's warm shutdown short.
        """
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(grace)
        # Also reaps what the main process left behind in its group.
        self.kill()
        self._reader.join(timeout=5)
        return self._popen.returncode


def stop_all(processes: Iterable[ChildProcess], grace: float = DEFAULT_GRACE_SECONDS) -> None:
    """Stop every process, all of them given the same grace period at once."""
    running = list(processes)
    for process in running:
        process.terminate()
    deadline = time.monotonic() + grace
    for process in running:
        process.wait_or_kill(max(0.0, deadline - time.monotonic()))


def wait_for_http(process: ChildProcess, url: str, timeout: float = 30.0) -> None:
    """Poll ``url`` until it answers 200; fail early if the process exits."""
    deadline = time.monotonic() + timeout
    last_problem = "no answer yet"
    while time.monotonic() < deadline:
        if not process.running:
            raise ProcessStartError(process.describe_failure(f"exited before {url} answered"))
        try:
            with urllib.request.urlopen(url, timeout=2.0) as response:  # noqa: S310 (http://)
                if response.status == 200:
                    return
                last_problem = f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            last_problem = f"HTTP {error.code}"
        except OSError as error:
            last_problem = str(error)
        time.sleep(0.2)
    raise ProcessStartError(
        process.describe_failure(
            f"did not answer {url} with 200 within {timeout:g} s (last: {last_problem})"
        )
    )


def start_api(
    env: Mapping[str, str],
    output: OutputSink,
    port: int = DEFAULT_API_PORT,
    name: str = "api",
    timeout: float = 30.0,
    argv: Sequence[str] | None = None,
) -> ChildProcess:
    """Start the API and return once GET /health answers 200."""
    process = ChildProcess(name, argv or api_command(port), env, output)
    try:
        wait_for_http(process, f"http://127.0.0.1:{port}/health", timeout)
    except ProcessStartError:
        process.stop(grace=1.0)
        raise
    return process


def start_worker(
    env: Mapping[str, str],
    output: OutputSink,
    name: str = "worker",
    argv: Sequence[str] | None = None,
) -> ChildProcess:
    return ChildProcess(name, argv or worker_command(), env, output)


def start_scheduler(
    env: Mapping[str, str],
    output: OutputSink,
    stack_name: str,
    start: datetime | None = None,
    name: str = "scheduler",
) -> ChildProcess:
    """Start the schedule runner; ``wait_for_output(SCHEDULER_READY)`` waits until it is ready."""
    return ChildProcess(name, scheduler_command(stack_name, start), env, output)


def start_light(
    env: Mapping[str, str], output: OutputSink, stack_name: str, name: str = "light"
) -> ChildProcess:
    """Start the light lane's poller; ``wait_for_output(LIGHT_READY)`` waits until it polls."""
    return ChildProcess(name, light_command(stack_name), env, output)
