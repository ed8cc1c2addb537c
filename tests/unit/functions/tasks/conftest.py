"""The worker's unit tests: moto's in-process AWS (the shared `aws` fixture) plus SNS and SES."""

from typing import Any

import boto3
import pytest

from skylane.core.aws import reset_clients
from skylane.core.settings import get_settings
from tests.unit.functions.tasks.helpers import ProgressRecorder, Upload


@pytest.fixture
def worker_aws(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """`aws` plus the notifications topic and a verified SES sender, as the template sets them up."""
    topic_arn = boto3.client("sns").create_topic(Name="skylane-test-notifications")["TopicArn"]
    monkeypatch.setenv("NOTIFICATIONS_TOPIC_ARN", topic_arn)
    boto3.client("ses").verify_email_identity(EmailAddress=aws["EMAIL_SENDER"])
    get_settings.cache_clear()
    reset_clients()
    return {**aws, "NOTIFICATIONS_TOPIC_ARN": topic_arn}


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
