"""Runtime schedules on the real local stack: created through the API, stored by moto's
Scheduler, fired by the scheduler runner (which picks them up without a restart), run by the
worker, and shown with their runs."""

import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.client import follow, upload
from tests.integration.conftest import LocalStack
from tests.integration.workers import stop_every_worker

pytestmark = pytest.mark.integration

# A cron schedule runs at the next minute boundary: up to 60 s away, then the job itself.
CRON_DEADLINE = timedelta(seconds=90)
NEVER_ON_ITS_OWN = "cron(0 0 1 1 ? 2199)"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create(local_stack: LocalStack, **body: Any) -> dict[str, Any]:
    answer = httpx.post(f"{local_stack.api_url}/schedules", json=body, timeout=30)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def detail(local_stack: LocalStack, name: str) -> httpx.Response:
    return httpx.get(f"{local_stack.api_url}/schedules/{name}", timeout=30)


def wait_for(what: str, condition: Callable[[], Any], deadline: datetime) -> Any:
    while not (found := condition()):
        if datetime.now(UTC) > deadline:
            raise AssertionError(f"not seen by {deadline:%H:%M:%S}: {what}")
        time.sleep(0.5)
    return found


def runs_of(local_stack: LocalStack, name: str) -> list[dict[str, Any]]:
    answer = detail(local_stack, name)
    assert answer.status_code == 200, answer.text
    runs: list[dict[str, Any]] = answer.json()["runs"]
    return runs


def test_a_cron_schedule_fires_on_time_and_a_paused_one_waits_until_resumed(
    local_stack: LocalStack,
) -> None:
    every_minute, paused = unique("every-minute"), unique("paused")
    common = {"task": "skylane.sync_data", "expression": "cron(* * * * ? *)"}
    created = create(local_stack, name=every_minute, **common)
    create(local_stack, name=paused, enabled=False, **common)
    first_due = datetime.fromisoformat(created["next_runs"][0])
    assert first_due.second == 0
    assert first_due > datetime.now(UTC) - timedelta(seconds=1)

    runs = wait_for(
        f"a run of {every_minute}",
        lambda: runs_of(local_stack, every_minute),
        first_due + CRON_DEADLINE,
    )
    # Not before its time: the run's job was accepted at or after the minute it was due.
    assert datetime.fromisoformat(runs[0]["created_at"]) >= first_due
    assert follow(local_stack.api_url, runs[0]["job_id"]).final["state"] == "SUCCESS"
    shown = detail(local_stack, every_minute).json()
    assert shown["run_count"] >= 1
    assert shown["last_run_at"] is not None
    assert shown["runs"][0]["state"] == "SUCCESS"
    assert shown["runs"][0]["duration_seconds"] is not None
    assert datetime.fromisoformat(shown["next_runs"][0]) > first_due
    job = httpx.get(f"{local_stack.api_url}/jobs/{runs[0]['job_id']}?logs=false").json()
    assert job["schedule"] == every_minute

    # The paused one was due at the same minute, and did not run.
    assert runs_of(local_stack, paused) == []
    resumed = httpx.post(f"{local_stack.api_url}/schedules/{paused}/resume", timeout=30)
    assert resumed.status_code == 200, resumed.text
    next_due = datetime.fromisoformat(resumed.json()["next_runs"][0])
    wait_for(f"a run of {paused}", lambda: runs_of(local_stack, paused), next_due + CRON_DEADLINE)

    for name in (every_minute, paused):
        deleted = httpx.delete(f"{local_stack.api_url}/schedules/{name}", timeout=30)
        assert deleted.status_code == 204, deleted.text


def test_skip_drops_a_run_while_the_previous_one_is_still_going(local_stack: LocalStack) -> None:
    key = upload(local_stack.api_url, "big.bin", b"x" * (4 * 1024 * 1024), "text/plain")
    name = unique("skip")
    create(
        local_stack,
        name=name,
        task="skylane.process_large_file",
        kwargs={"file_key": key},
        expression=NEVER_ON_ITS_OWN,
        overlap="skip",
    )
    fire = f"{local_stack.api_url}/schedules/{name}/fire"
    # No worker while the second run comes: the first is still queued, however fast it runs.
    stop_every_worker(local_stack)
    try:
        first = httpx.post(fire, timeout=30).json()
        assert first["started"] is True, first
        second = httpx.post(fire, timeout=30).json()
    finally:
        local_stack.start_worker()
    assert second == {
        "schedule": name,
        "job_id": second["job_id"],
        "started": False,
        "skipped_for": first["job_id"],
        "held_for": None,
    }
    assert follow(local_stack.api_url, first["job_id"], timeout=120).final["state"] == "SUCCESS"
    third = httpx.post(fire, timeout=30).json()
    assert third["started"] is True, third
    assert [run["job_id"] for run in runs_of(local_stack, name)] == [
        third["job_id"],
        first["job_id"],
    ]
    follow(local_stack.api_url, third["job_id"], timeout=120)
    assert httpx.delete(f"{local_stack.api_url}/schedules/{name}").status_code == 204


def test_buffer_one_runs_one_held_run_after_the_going_one_and_drops_the_rest(
    local_stack: LocalStack,
) -> None:
    key = upload(local_stack.api_url, "big.bin", b"x" * (4 * 1024 * 1024), "text/plain")
    name = unique("buffer")
    create(
        local_stack,
        name=name,
        task="skylane.process_large_file",
        kwargs={"file_key": key},
        expression=NEVER_ON_ITS_OWN,
        overlap="buffer_one",
    )
    fire = f"{local_stack.api_url}/schedules/{name}/fire"
    # No worker while the next three come: the first run is still queued, however fast it runs.
    stop_every_worker(local_stack)
    try:
        first = httpx.post(fire, timeout=30).json()
        assert first["started"] is True, first
        during = [httpx.post(fire, timeout=30).json() for _ in range(3)]
        shown = detail(local_stack, name).json()
        listed = skylane(local_stack, "show", name)
    finally:
        local_stack.start_worker()
    held, *dropped = during
    assert held == {
        "schedule": name,
        "job_id": held["job_id"],
        "started": False,
        "skipped_for": None,
        "held_for": first["job_id"],
    }
    assert [(run["started"], run["skipped_for"]) for run in dropped] == [
        (False, first["job_id"]),
        (False, first["job_id"]),
    ]
    assert shown["held"]["job_id"] == held["job_id"]
    assert f"held {held['job_id']} behind {first['job_id']}" in listed.stdout, listed.stderr

    assert follow(local_stack.api_url, first["job_id"], timeout=120).final["state"] == "SUCCESS"
    # The worker that recorded the first run's end started the held one: nobody fired again.
    wait_for(
        f"the held run {held['job_id']}",
        lambda: len(runs_of(local_stack, name)) == 2,
        datetime.now(UTC) + timedelta(seconds=60),
    )
    assert follow(local_stack.api_url, held["job_id"], timeout=120).final["state"] == "SUCCESS"
    assert [run["job_id"] for run in runs_of(local_stack, name)] == [
        held["job_id"],
        first["job_id"],
    ]
    job = httpx.get(f"{local_stack.api_url}/jobs/{held['job_id']}?logs=false").json()
    assert job["schedule"] == name
    for run in dropped:
        assert httpx.get(f"{local_stack.api_url}/jobs/{run['job_id']}").status_code == 404
    shown = detail(local_stack, name).json()
    assert (shown["run_count"], shown["held"]) == (2, None)
    assert httpx.delete(f"{local_stack.api_url}/schedules/{name}").status_code == 204


def test_a_one_off_at_schedule_runs_once_and_disappears(local_stack: LocalStack) -> None:
    name = unique("once")
    when = (datetime.now(UTC) + timedelta(seconds=10)).replace(microsecond=0)
    create(
        local_stack,
        name=name,
        task="skylane.sync_data",
        expression=f"at({when:%Y-%m-%dT%H:%M:%S})",
    )
    scheduler = local_stack.client("scheduler")
    group = local_stack.stack.api_env["SCHEDULE_GROUP"]

    def gone() -> bool:
        listed = scheduler.list_schedules(GroupName=group)["Schedules"]
        return name not in {schedule["Name"] for schedule in listed}

    wait_for(f"{name} deleted after its run", gone, when + timedelta(seconds=60))
    assert detail(local_stack, name).status_code == 404
    jobs = local_stack.client("dynamodb").scan(
        TableName=local_stack.table,
        FilterExpression="#schedule = :name",
        ExpressionAttributeNames={"#schedule": "schedule"},
        ExpressionAttributeValues={":name": {"S": name}},
        ConsistentRead=True,
    )["Items"]
    assert len(jobs) == 1, jobs
    final = follow(local_stack.api_url, jobs[0]["job_id"]["S"]).final
    assert final["state"] == "SUCCESS"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"expression": "cron(0 12 * * * *)"}, "day-of-month and day-of-week"),
        ({"expression": "rate(90 seconds)"}, "minute(s), hour(s) or day(s)"),
        ({"timezone": "Mars/Olympus_Mons"}, "unknown time zone"),
        ({"task": "skylane.no_such_task"}, "unknown task"),
        ({"task": "skylane.generate_report", "kwargs": {"user_id": 0}}, "report_type"),
    ],
)
def test_bad_expressions_and_unknown_tasks_are_422s(
    local_stack: LocalStack, change: dict[str, Any], reason: str
) -> None:
    name = unique("refused")
    body = {"name": name, "task": "skylane.sync_data", "expression": "rate(1 hour)", **change}
    answer = httpx.post(f"{local_stack.api_url}/schedules", json=body, timeout=30)
    assert answer.status_code == 422, answer.text
    assert reason in answer.text
    assert detail(local_stack, name).status_code == 404


def test_the_templates_schedules_are_listed_read_only(local_stack: LocalStack) -> None:
    listed = httpx.get(f"{local_stack.api_url}/schedules", timeout=30).json()["schedules"]
    template = {s["task"]: s for s in listed if s["read_only"]}
    assert set(template) >= {
        "skylane.cleanup_temp_files",
        "skylane.generate_daily_report",
        "skylane.sync_data",
    }
    name = template["skylane.sync_data"]["name"]
    paused = httpx.post(f"{local_stack.api_url}/schedules/{name}/pause", timeout=30)
    assert paused.status_code == 409, paused.text
    assert "template.yaml" in paused.text


def skylane(local_stack: LocalStack, *argv: str) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).with_name("skylane")
    return subprocess.run(
        [str(command), "schedules", *argv, "--state", str(local_stack.state_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_skylane_command_manages_runtime_schedules(local_stack: LocalStack) -> None:
    name = unique("cli")
    created = skylane(
        local_stack,
        "create",
        name,
        "--task",
        "skylane.sync_data",
        "--expression",
        NEVER_ON_ITS_OWN,
        "--overlap",
        "skip",
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith(f"{name}: skylane.sync_data {NEVER_ON_ITS_OWN} UTC, active")
    paused = skylane(local_stack, "pause", name)
    assert ", paused," in paused.stdout, paused.stderr
    fired = skylane(local_stack, "fire", name)
    assert fired.stdout.startswith(f"{name} fired: job "), fired.stderr
    shown = skylane(local_stack, "show", name)
    assert shown.returncode == 0, shown.stderr
    assert "1 runs" in shown.stdout
    refused = skylane(
        local_stack,
        "create",
        unique("cli"),
        "--task",
        "skylane.sync_data",
        "--expression",
        "rate(1 fortnight)",
    )
    assert refused.returncode == 1
    assert (
        "answered 422: expression: rate(1 fortnight): expected rate(value unit)" in refused.stderr
    )
    assert skylane(local_stack, "delete", name).stdout.strip() == f"{name} deleted"
    assert detail(local_stack, name).status_code == 404
