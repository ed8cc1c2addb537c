"""MAX_BATCH_FILES keeps a full batch's summary message inside SQS's 256 KiB."""

from typing import Any
from uuid import uuid4

import boto3

from functions.api.batches import MAX_BATCH_FILES
from skylane.broker.celery_app import get_celery_app
from skylane.jobs.contracts import PROCESS_BATCH
from tests.unit.conftest import REGION

SQS_MESSAGE_LIMIT = 256 * 1024
LONGEST_KEY = 1024


def test_the_body_of_the_largest_batch_fits_in_one_sqs_message(aws: dict[str, Any]) -> None:
    # process_large_file's result for the longest key and the largest figures.
    results = [
        {
            "status": "success",
            "file": f"uploads/{uuid4()}/".ljust(LONGEST_KEY, "x"),
            "chunks": 10**9,
            "lines": 10**15,
            "sha256": "f" * 64,
            "size_bytes": 10**15,
        }
        for _ in range(MAX_BATCH_FILES)
    ]
    get_celery_app().signature(PROCESS_BATCH.name, args=(results,)).apply_async()
    sqs = boto3.client("sqs", region_name=REGION)
    message = sqs.receive_message(QueueUrl=aws["DEFAULT_QUEUE_URL"])["Messages"][0]
    assert len(message["Body"].encode()) <= SQS_MESSAGE_LIMIT
