"""The periodic tasks through the real parts: the scheduler handler (in a process with the
template's SchedulerFunction environment) enqueues, the worker runs, the API presents the job.
"""

import json
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.processes import child_environment
from skylane.jobs.store import day_shard, iso, utcnow
from tests.integration.client import Followed, follow, job_view
from tests.integration.conftest import LocalStack

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]

# What a Lambda invocation of SchedulerFunction runs; the handler's answer is the last line
# (the logger writes its JSON lines to stdout before it).
INVOKE_SCHEDULER = """
import json, sys
from types import SimpleNamespace
from functions.scheduler.handler import handler
context = SimpleNamespace(
    function_name="SchedulerFunction",
    memory_limit_in_mb=256,
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:SchedulerFunction",
    aws_request_id="integration-test",
)
print(json.dumps(handler(json.loads(sys.argv[1]), context)))
"""


def fire(local_stack: LocalStack, task: str, kwargs: dict[str, Any] | None = None) -> str:
    """Deliver one EventBridge Scheduler event for `task`; the job id the scheduler enqueued."""
    event = {
        "task": task,
        "kwargs": kwargs or {},
        "execution_id": str(uuid.uuid4()),
        "scheduled_time": iso(utcnow()),
        "schedule": "integration-test",
    }
    env = child_environment(
        local_stack.component_env("SchedulerFunction"),
        local_stack.stack.component_env("SchedulerFunction"),
    )
    invoked = subprocess.run(
        [sys.executable, "-c", INVOKE_SCHEDULER, json.dumps(event)],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert invoked.returncode == 0, invoked.stderr + invoked.stdout
    answer = json.loads(invoked.stdout.strip().splitlines()[-1])
    assert (answer["task"], answer["duplicate"]) == (task, False), answer
    job_id: str = answer["job_id"]
    return job_id


def run(local_stack: LocalStack, task: str, kwargs: dict[str, Any] | None = None) -> Followed:
    followed = follow(local_stack.api_url, fire(local_stack, task, kwargs))
    assert followed.final["state"] == "SUCCESS", followed.final
    return followed


def test_cleanup_aborts_an_abandoned_multipart_upload(local_stack: LocalStack) -> None:
    s3 = local_stack.client("s3")
    key = f"uploads/{uuid.uuid4()}/abandoned.bin"
    upload_id = s3.create_multipart_upload(Bucket=local_stack.uploads_bucket, Key=key)["UploadId"]
    s3.upload_part(
        Bucket=local_stack.uploads_bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x"
    )

    result = run(local_stack, "skylane.cleanup_temp_files").final["result"]

    # The emulator reports every multipart upload as initiated in 2010: long abandoned. The
    # session's scheduler fires the same cleanup every minute and may have aborted it first,
    # so this job's own count can be 0: what matters is that the upload is gone.
    assert result["status"] == "success"
    assert {"multipart_uploads_aborted", "scratch_files_deleted", "scratch_bytes_freed"} <= set(
        result
    )
    remaining = s3.list_multipart_uploads(Bucket=local_stack.uploads_bucket).get("Uploads", [])
    assert key not in {upload["Key"] for upload in remaining}


def test_sync_data_marks_a_job_lost_by_its_worker_once(local_stack: LocalStack) -> None:
    job_id = str(uuid.uuid4())
    # A send_email job whose worker vanished two hours ago, past its 1980 s deadline.
    started = utcnow() - timedelta(hours=2)
    local_stack.client("dynamodb").put_item(
        TableName=local_stack.table,
        Item={
            "job_id": {"S": job_id},
            "day_shard": {"S": day_shard(started.date(), job_id)},
            "task": {"S": "skylane.send_email"},
            "kind": {"S": "send_email"},
            "queue": {"S": "default"},
            "state": {"S": "STARTED"},
            "created_at": {"S": iso(started)},
            "started_at": {"S": iso(started)},
            "last_started_at": {"S": iso(started)},
            "updated_at": {"S": iso(started)},
            "inputs": {"S": "{}"},
            "attempts": {"N": "1"},
        },
    )

    first = run(local_stack, "skylane.sync_data").final["result"]

    assert job_id in first["marked_lost"]
    assert first["checked"] >= 1
    lost = job_view(local_stack.api_url, job_id)
    assert lost["status"] == "failed", lost
    assert "dead-letter queue" in json.dumps(lost)

    second = run(local_stack, "skylane.sync_data").final["result"]

    assert job_id not in second["marked_lost"]
    assert job_view(local_stack.api_url, job_id) == lost


def test_daily_report_counts_the_days_jobs(local_stack: LocalStack) -> None:
    cleanup = run(local_stack, "skylane.cleanup_temp_files")
    day = job_view(local_stack.api_url, cleanup.job_id)["created_at"][:10]

    report_job = run(local_stack, "skylane.generate_daily_report", {"day": day})

    result = report_job.final["result"]
    assert result["day"] == day
    assert result["report_key"] == f"reports/daily/{day}.json"
    assert result["jobs"] >= 1
    # The API presents a fresh presigned link to the stored report.
    report = httpx.get(result["url"], timeout=10).json()
    assert report["jobs"] == result["jobs"]
    assert report["by_task_state"]["skylane.cleanup_temp_files"]["SUCCESS"] >= 1
    assert sum(report["by_task"].values()) == report["jobs"]
    # The report job itself, still running as it wrote the report, is left out.
    assert "STARTED" not in report["by_task_state"].get("skylane.generate_daily_report", {})
