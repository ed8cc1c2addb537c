"""The tasks' unit tests: an uploaded object and a progress recorder (worker_aws is in
tests/unit/functions/conftest.py)."""

from typing import Any

import boto3
import pytest

from tests.unit.functions.tasks.helpers import ProgressRecorder, Upload


@pytest.fixture
def upload(worker_aws: dict[str, Any]) -> Upload:
    """upload(key, body) puts an object into the uploads bucket and returns its key."""
    bucket = worker_aws["UPLOADS_BUCKET"]

    def put(key: str, body: bytes) -> str:
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
        return key

    return put


@pytest.fixture
def progress() -> ProgressRecorder:
    return ProgressRecorder()
