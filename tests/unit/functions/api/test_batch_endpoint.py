"""POST /process-batch: a chord of file parts and a summary body, followed by the body's id."""

import base64
import json
from typing import Any

import boto3
import pytest

from functions.api.batches import MAX_BATCH_FILES
from skylane.jobs.states import JobState
from skylane.jobs.store import JobStore
from tests.unit.conftest import REGION, UPLOADS
from tests.unit.functions.api.conftest import Invoke


def _upload(key: str) -> str:
    boto3.client("s3", region_name=REGION).put_object(Bucket=UPLOADS, Key=key, Body=b"a\nb\n")
    return key


def _queued_tasks(queue_url: str) -> list[tuple[str, str]]:
    sqs = boto3.client("sqs", region_name=REGION)
    tasks: list[tuple[str, str]] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in batch:
            headers = json.loads(base64.b64decode(message["Body"]))["headers"]
            tasks.append((headers["task"], headers["id"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return tasks


def test_a_batch_is_recorded_with_its_parts_and_only_the_parts_are_queued(
    invoke: Invoke, aws: dict[str, Any]
) -> None:
    keys = [_upload(f"uploads/batch/{n}.txt") for n in range(3)]
    answer = invoke("POST", "/process-batch", {"file_paths": keys})
    assert answer.status == 202
    batch_id = answer.body["task_id"]
    parts = answer.body["parts"]
    assert len(parts) == 3

    queued = _queued_tasks(aws["DEFAULT_QUEUE_URL"])
    # The body waits for its parts: no chord_unlock, no body message yet.
    assert sorted(queued) == sorted(("skylane.process_large_file", part) for part in parts)
    store = JobStore.from_settings()
    batch = store.get(batch_id)
    assert batch is not None
    assert (batch.state, batch.kind, batch.parts) == (JobState.PENDING, "process_batch", parts)
    assert batch.inputs == {"file_paths": keys}
    for part_id, key in zip(parts, keys, strict=True):
        part = store.get(part_id)
        assert part is not None
        assert (part.state, part.parent_id, part.inputs) == (
            JobState.PENDING,
            batch_id,
            {"file_key": key},
        )

    status = invoke("GET", f"/task/{batch_id}")
    assert status.body["state"] == "PENDING"
    assert (status.body["current"], status.body["total"]) == (0, 3)
    detail = invoke("GET", f"/jobs/{batch_id}?logs=false")
    assert detail.body["parts"] == parts
    assert detail.body["parts_done"] == 0
    assert invoke("GET", f"/jobs/{parts[0]}?logs=false").body["parent_id"] == batch_id


def test_cancelling_a_batch_cancels_its_unfinished_parts(invoke: Invoke) -> None:
    keys = [_upload(f"uploads/cancel/{n}.txt") for n in range(2)]
    answer = invoke("POST", "/process-batch", {"file_paths": keys})
    first, second = answer.body["parts"]
    JobStore.from_settings().record_success(first, {"status": "success"})

    cancelled = invoke("POST", f"/task/{answer.body['task_id']}/cancel")
    assert cancelled.status == 200
    assert cancelled.body["state"] == "REVOKED"
    store = JobStore.from_settings()
    assert store.get(second).state is JobState.REVOKED  # type: ignore[union-attr]
    assert store.get(first).state is JobState.SUCCESS  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("file_paths", "says"),
    [
        ([], "at least 1 item"),
        (["uploads/x.txt"] * (MAX_BATCH_FILES + 1), f"at most {MAX_BATCH_FILES} items"),
        (["uploads/never-uploaded.txt"], "no object 'uploads/never-uploaded.txt'"),
        (["uploads/../../secret"], "without '..'"),
    ],
)
def test_bad_batches_are_refused_and_nothing_is_queued(
    invoke: Invoke, aws: dict[str, Any], file_paths: list[str], says: str
) -> None:
    answer = invoke("POST", "/process-batch", {"file_paths": file_paths})
    assert answer.status == 422
    assert says in json.dumps(answer.body)
    assert _queued_tasks(aws["DEFAULT_QUEUE_URL"]) == []
