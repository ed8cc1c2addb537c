"""What the tasks' and the light lane's unit tests share: moto's in-process AWS (the `aws`
fixture) plus SNS and SES, as the worker and the light lane see it."""

from typing import Any

import boto3
import pytest

from skylane.core.aws import reset_clients
from skylane.core.settings import get_settings


@pytest.fixture
def worker_aws(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """`aws` plus the notifications topic and a verified SES sender, as the template sets them up."""
    topic_arn = boto3.client("sns").create_topic(Name="skylane-test-notifications")["TopicArn"]
    monkeypatch.setenv("NOTIFICATIONS_TOPIC_ARN", topic_arn)
    boto3.client("ses").verify_email_identity(EmailAddress=aws["EMAIL_SENDER"])
    get_settings.cache_clear()
    reset_clients()
    return {**aws, "NOTIFICATIONS_TOPIC_ARN": topic_arn}
