"""The skylane command, with the local stack replaced by fakes (the integration tests fire
against a real one)."""

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra.emulator import free_port
from infra.stack_state import StackState
from skylane_cli import main as cli

SCHEDULER_ENV = {"JOBS_TABLE": "skylane-local-jobs", "SKYLANE_STAGE": "local"}


def write_state(path: Path, endpoint_url: str) -> StackState:
    state = StackState(
        stack_name="skylane-local",
        region="us-east-1",
        endpoint_env={"AWS_ENDPOINT_URL": endpoint_url, "AWS_REGION": "us-east-1"},
        components={"api": {}, "worker": {}, "SchedulerFunction": SCHEDULER_ENV},
        outputs={},
        started_at=datetime(2026, 11, 28, 1, 58, 30, tzinfo=UTC).isoformat(),
    )
    state.write(path)
    return state


def test_schedules_lists_each_schedule_with_its_next_firings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pipe's width (a narrower terminal gets the names shortened, as rich does).
    monkeypatch.setenv("COLUMNS", "120")
    write_state(tmp_path / "stack.json", "http://127.0.0.1:1")
    assert cli.main(["schedules", "--state", str(tmp_path / "stack.json")]) == 0
    out = capsys.readouterr().out
    for name, expression in [
        ("CleanupTempFiles", "rate(1 minute)"),
        ("GenerateDailyReport", "cron(0 2 * * ? *)"),
        ("SyncData", "cron(0 * * * ? *)"),
    ]:
        assert name in out
        assert expression in out
    # A rate schedule keeps the running stack's phase (it started at hh:mm:30).
    assert ":30Z" in out


def test_fire_without_a_running_stack_says_how_to_start_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["schedules", "fire", "SyncData", "--state", str(tmp_path / "none.json")])
    assert code == 1
    assert "no local stack is running" in capsys.readouterr().err


def test_fire_against_a_stack_that_is_gone_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_state(tmp_path / "stack.json", f"http://127.0.0.1:{free_port()}")
    code = cli.main(["schedules", "fire", "SyncData", "--state", str(tmp_path / "stack.json")])
    assert code == 1
    assert "is `make up` still running?" in capsys.readouterr().err


def test_fire_an_unknown_schedule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schedules", "fire", "Nightly"]) == 1
    assert "no schedule 'Nightly'" in capsys.readouterr().err


def test_kwargs_must_be_a_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["schedules", "fire", "SyncData", "--kwargs", "[1]"])
    assert "expected a JSON object" in capsys.readouterr().err


class FakeRun:
    """subprocess.run for the child that runs the function's handler."""

    def __init__(self, returncode: int, stdout: str, stderr: str = "") -> None:
        self.result = (returncode, stdout, stderr)
        self.calls: list[dict[str, Any]] = []

    def __call__(self, argv: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append({"argv": argv, **options})
        return subprocess.CompletedProcess(argv, *self.result)


@pytest.fixture
def running_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "stack.json"
    state = write_state(path, "http://127.0.0.1:1")
    monkeypatch.setattr(StackState, "check_reachable", lambda self: None)
    assert state.stack_name == "skylane-local"
    return path


def test_fire_runs_the_handler_with_the_functions_environment(
    running_stack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "production")
    answer = {"job_id": "0b4ec8cf-9fd6-5be0-8cb8-3dafcefaae90", "task": "skylane.sync_data"}
    fake = FakeRun(0, "log line\n" + json.dumps({**answer, "duplicate": False}) + "\n")
    monkeypatch.setattr(subprocess, "run", fake)

    code = cli.main(
        ["schedules", "--state", str(running_stack), "fire", "SyncData", "--kwargs", '{"a": 1}']
    )

    assert code == 0
    assert capsys.readouterr().out == (
        "SyncData fired: job 0b4ec8cf-9fd6-5be0-8cb8-3dafcefaae90 (skylane.sync_data) enqueued\n"
    )
    call = fake.calls[0]
    assert call["argv"][1:] == [
        "-m",
        "infra.scheduler_runner",
        "--stack-name",
        "skylane-local",
        "--function",
        "SchedulerFunction",
        "--fire",
        "SyncData",
        "--kwargs",
        '{"a": 1}',
    ]
    env = call["env"]
    assert env["JOBS_TABLE"] == "skylane-local-jobs"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
    assert "AWS_PROFILE" not in env  # never the caller's AWS identity


def test_a_failed_invocation_shows_the_functions_output(
    running_stack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(subprocess, "run", FakeRun(1, "", "Traceback ...\nInvalidScheduledEvent"))
    code = cli.main(["schedules", "--state", str(running_stack), "fire", "SyncData"])
    assert code == 1
    err = capsys.readouterr().err
    assert "the SchedulerFunction invocation failed (exit 1)" in err
    assert "InvalidScheduledEvent" in err
