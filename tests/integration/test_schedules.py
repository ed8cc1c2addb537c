"""EventBridge Scheduler's stand-in on the real local stack: the every-minute cleanup fires on
its own, and `skylane schedules fire` runs the daily report now."""

import itertools
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.integration.client import follow
from tests.integration.conftest import LocalStack

pytestmark = pytest.mark.integration

# rate(1 minute) fires at the stack's start and every minute after; a firing waits for the
# scheduler's start-up, so 75 s leaves room for the second one.
FIRST_CLEANUP_WITHIN = timedelta(seconds=75)
JOB_ID = re.compile(r"\bjob ([0-9a-f-]{36})\b")


def jobs_of(local_stack: LocalStack, task: str) -> list[dict[str, dict[str, str]]]:
    dynamodb = local_stack.client("dynamodb")
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=local_stack.table,
        FilterExpression="task = :task",
        ExpressionAttributeValues={":task": {"S": task}},
    )
    return [item for page in pages for item in page["Items"]]


@pytest.mark.every_emulator
def test_the_every_minute_cleanup_fires_on_its_own(local_stack: LocalStack) -> None:
    deadline = local_stack.started_at + FIRST_CLEANUP_WITHIN
    log = local_stack.logs.path(local_stack.scheduler.name)

    def fired_by_the_scheduler() -> list[str]:
        # Other tests run cleanup_temp_files directly: only a job the scheduler's log (the
        # whole file: it may have fired many times since) says it enqueued counts.
        scheduler_log = log.read_text()
        return [
            item["job_id"]["S"]
            for item in jobs_of(local_stack, "skylane.cleanup_temp_files")
            if f"job {item['job_id']['S']} (skylane.cleanup_temp_files) enqueued" in scheduler_log
        ]

    while not (found := fired_by_the_scheduler()):
        if datetime.now(UTC) > deadline:
            scheduler_output = local_stack.scheduler.recent_output()
            raise AssertionError(
                f"no cleanup job {FIRST_CLEANUP_WITHIN} after the start:\n{scheduler_output}"
            )
        time.sleep(1)
    followed = follow(local_stack.api_url, found[0], timeout=60)
    assert followed.final["state"] == "SUCCESS", followed.final
    # Its runs are counted as a runtime schedule's are, on its run-state item.
    listed = httpx.get(f"{local_stack.api_url}/schedules", timeout=30).json()["schedules"]
    cleanup = next(s for s in listed if s["task"] == "skylane.cleanup_temp_files")
    assert cleanup["read_only"] is True
    assert cleanup["run_count"] >= len(found)
    assert cleanup["last_run_at"] is not None
    shown = httpx.get(f"{local_stack.api_url}/schedules/{cleanup['name']}", timeout=30).json()
    assert set(found) & {run["job_id"] for run in shown["runs"]}


def test_skylane_schedules_fire_runs_the_daily_report_now(local_stack: LocalStack) -> None:
    command = Path(sys.executable).with_name("skylane")
    done = subprocess.run(
        [
            str(command),
            "schedules",
            "fire",
            "GenerateDailyReport",
            "--state",
            str(local_stack.state_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("GenerateDailyReport fired: job "), done.stdout
    match = JOB_ID.search(done.stdout)
    assert match is not None, done.stdout

    followed = follow(local_stack.api_url, match[1], timeout=120)
    assert followed.final["state"] == "SUCCESS", followed.final
    report_key = followed.final["result"]["report_key"]
    report = local_stack.client("s3").get_object(Bucket=local_stack.reports_bucket, Key=report_key)
    assert report["ContentLength"] > 0


CLEANUP_FIRED = re.compile(
    r"CleanupTempFiles \(due (\S+), .*: job ([0-9a-f-]{36}) \(skylane\.cleanup_temp_files\) "
    r"enqueued"
)
PERIOD = timedelta(minutes=1)


@pytest.mark.every_emulator
def test_each_schedule_fires_once_per_period_from_one_source(local_stack: LocalStack) -> None:
    # The emulator's own Scheduler does not fire where the schedule runner does.
    kind = local_stack.endpoint.kind
    if kind.schedule_firing == "schedule runner" and kind.own_scheduler_fires:
        scheduler = local_stack.client("scheduler")
        names = [s["Name"] for s in scheduler.list_schedules()["Schedules"]]
        assert names, "the stack has schedules"
        for name in names:
            assert scheduler.get_schedule(Name=name)["State"] == "DISABLED", name
    # Two periods at least, so a second firing (ours or the emulator's) would show.
    while datetime.now(UTC) < local_stack.started_at + 2 * PERIOD + timedelta(seconds=10):
        time.sleep(1)
    log = local_stack.logs.path(local_stack.scheduler.name).read_text()
    fired = CLEANUP_FIRED.findall(log)
    due_times = [datetime.fromisoformat(due.replace("Z", "+00:00")) for due, _ in fired]
    assert len(due_times) >= 3, log[-2000:]
    assert len(set(due_times)) == len(due_times), "a period fired twice"
    assert all(later - earlier == PERIOD for earlier, later in itertools.pairwise(due_times))
    # One job per firing, each in the table.
    job_ids = {job_id for _, job_id in fired}
    assert len(job_ids) == len(fired)
    dynamodb = local_stack.client("dynamodb")
    for job_id in job_ids:
        item = dynamodb.get_item(TableName=local_stack.table, Key={"job_id": {"S": job_id}})
        assert item["Item"]["task"] == {"S": "skylane.cleanup_temp_files"}, job_id
