"""The naive port's tasks: plain Celery tasks doing the same work skylane's tasks do."""

import logging
import os
from typing import Any

import boto3

from bench.naive.celery_app import celery_app

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
BUCKET = os.getenv("NAIVE_BUCKET", "")
SENDER = os.getenv("NAIVE_EMAIL_SENDER", "no-reply@example.com")
# A retry waits 60 s; the bench passes the countdown skylane's stack uses.
RETRY_COUNTDOWN = int(os.getenv("NAIVE_RETRY_COUNTDOWN", "60"))


@celery_app.task(bind=True, max_retries=3)  # type: ignore[untyped-decorator]
def process_large_file(self: Any, file_path: str) -> dict[str, Any]:
    try:
        logger.info("processing file: %s", file_path)
        obj = boto3.client("s3").get_object(Bucket=BUCKET, Key=file_path)
        size = int(obj["ContentLength"])
        total = max(1, -(-size // CHUNK_SIZE))
        body = obj["Body"]
        for i in range(total):
            body.read(CHUNK_SIZE)
            self.update_state(state="PROGRESS", meta={"current": i + 1, "total": total})
        logger.info("file processed: %s", file_path)
        return {"status": "success", "file": file_path}
    except Exception as e:
        logger.error("file processing failed: %s", e)
        raise self.retry(exc=e, countdown=RETRY_COUNTDOWN) from e


@celery_app.task(bind=True, max_retries=3)  # type: ignore[untyped-decorator]
def send_email(self: Any, email: str, subject: str, body: str) -> dict[str, Any]:
    try:
        logger.info("sending email to: %s", email)
        boto3.client("ses").send_email(
            Source=SENDER,
            Destination={"ToAddresses": [email]},
            Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": body}}},
        )
        return {"status": "success", "email": email}
    except Exception as e:
        logger.error("email failed: %s", e)
        raise self.retry(exc=e, countdown=RETRY_COUNTDOWN) from e
