"""Poison messages: they never stop a worker, SQS parks them in the DLQ, and they can be sent back."""

import base64
import json
import uuid

import pytest

from skylane.queues.dead_letters import list_dead_letters, redrive
from tests.integration.client import follow, submit
from tests.integration.conftest import LocalStack
from tests.integration.waiting import wait_until

pytestmark = pytest.mark.integration


def celery_message(task: str, job_id: str) -> str:
    """A message as Celery's SQS producer writes it (protocol 2), for a task nobody registers."""
    body = base64.b64encode(json.dumps([[], {}, {}]).encode()).decode()
    return json.dumps(
        {
            "body": body,
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {
                "lang": "py",
                "task": task,
                "id": job_id,
                "root_id": job_id,
                "parent_id": None,
                "group": None,
                "retries": 0,
                "eta": None,
                "expires": None,
                "timelimit": [None, None],
                "argsrepr": "()",
                "kwargsrepr": "{}",
                "origin": "test",
            },
            "properties": {
                "correlation_id": job_id,
                "reply_to": "",
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": "default"},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
    )


@pytest.mark.every_emulator
def test_poison_messages_end_in_the_dead_letter_queue_and_can_be_redriven(
    local_stack: LocalStack,
) -> None:
    sqs = local_stack.client("sqs")
    queue, dlq = local_stack.default_queue_url, local_stack.default_dlq_url
    job_id = f"poison-{uuid.uuid4()}"
    sqs.send_message(QueueUrl=queue, MessageBody="{not json at all")
    sqs.send_message(QueueUrl=queue, MessageBody=celery_message("skylane.retired_task", job_id))
    if not local_stack.workers:
        local_stack.start_worker()

    wait_until(lambda: len(list_dead_letters(sqs, dlq)) == 2, 90, "both messages in the DLQ")

    letters = {letter.job_id: letter for letter in list_dead_letters(sqs, dlq)}
    assert letters[None].reason.startswith("not a Celery message")
    assert letters[job_id].task == "skylane.retired_task"
    assert "unknown task" in letters[job_id].reason
    assert all(letter.receive_count >= 3 for letter in letters.values())
    # Workers kept running and still run jobs.
    assert all(worker.running for worker in local_stack.workers)
    normal = submit(
        local_stack.api_url, "/generate-report", {"user_id": 7, "report_type": "summary"}
    )
    assert follow(local_stack.api_url, normal).final["state"] == "SUCCESS"

    # After a fix (say, a worker that registers the task again) the message goes back.
    moved = redrive(sqs, dlq, queue, wanted=lambda letter: letter.job_id == job_id)
    assert [letter.job_id for letter in moved] == [job_id]
    remaining = list_dead_letters(sqs, dlq)
    assert [letter.job_id for letter in remaining] == [None]
