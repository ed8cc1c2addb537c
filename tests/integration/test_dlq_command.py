"""``skylane dlq`` as a user runs it against the running stack: every queue with a dead-letter
queue is known from the stack's outputs, the light lane's included."""

import json
import subprocess
import sys
import uuid
from typing import Any

import pytest

from infra.processes import REPO_ROOT
from tests.integration.conftest import LocalStack

pytestmark = pytest.mark.integration


def skylane_dlq(local_stack: LocalStack, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "skylane_cli.main",
            "dlq",
            *argv,
            "--state",
            str(local_stack.state_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def take_out(sqs: Any, queue_url: str, job_id: str) -> None:
    """Removes the test's own dead letter again; other tests count what is there."""
    for _ in range(20):
        received = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        for message in received:
            if job_id in message["Body"]:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                return


def test_dlq_list_shows_the_light_lanes_dead_letters_and_every_other_queue(
    local_stack: LocalStack,
) -> None:
    sqs = local_stack.client("sqs")
    job_id = f"dlq-cli-{uuid.uuid4()}"
    body = json.dumps(
        {"body": "W10=", "headers": {"task": "skylane.send_email", "id": job_id}, "properties": {}}
    )
    sqs.send_message(QueueUrl=local_stack.light_dlq_url, MessageBody=body)
    try:
        every = skylane_dlq(local_stack, "list")
        assert every.returncode == 0, every.stderr
        headers = [line.split(":")[0] for line in every.stdout.splitlines() if ":" in line[:20]]
        assert {"high", "default", "light", "schedule"} <= set(headers), every.stdout

        light = skylane_dlq(local_stack, "list", "light")
        assert light.returncode == 0, light.stderr
        assert light.stdout.startswith("light: ")
        assert f"job {job_id}  task skylane.send_email" in light.stdout

        # A redrive of the light queue by name; only a job that is not there: nothing moves.
        none = skylane_dlq(local_stack, "redrive", "light", "--job-id", "not-there")
        assert none.returncode == 0, none.stderr
        assert none.stdout == "light: 0 message(s) sent back\n"

        unknown = skylane_dlq(local_stack, "list", "nope")
        assert unknown.returncode == 1
        assert "no dead-letter queue 'nope' (known: " in unknown.stderr
    finally:
        take_out(sqs, local_stack.light_dlq_url, job_id)
