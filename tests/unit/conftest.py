"""Unit tests: no network. AWS is moto's in-process mock; every cache is cleared per test."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.template import load_template
from skylane.broker.celery_app import get_celery_app
from skylane.core.aws import reset_clients
from skylane.core.settings import get_settings

REGION = "us-east-1"
TABLE = "skylane-test-jobs"
UPLOADS = "skylane-test-uploads"
REPORTS = "skylane-test-reports"
SENDER = "no-reply@example.com"
SCHEDULE_GROUP = "skylane-test-schedules"
SCHEDULER_FUNCTION_ARN = (
    "arn:aws:lambda:us-east-1:123456789012:function:skylane-test-SchedulerFunction"
)
SCHEDULER_INVOKE_ROLE_ARN = "arn:aws:iam::123456789012:role/skylane-test-SchedulerInvokeRole"


def _clear_caches() -> None:
    get_settings.cache_clear()
    reset_clients()
    get_celery_app.cache_clear()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The template's resources, created in moto's in-process mock, and the env that names them."""
    for name in ("AWS_ENDPOINT_URL", "LOCALSTACK_HOST", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        queues = {
            name: sqs.create_queue(QueueName=f"skylane-test-{name}")["QueueUrl"]
            for name in ("high", "default", "high-dlq", "default-dlq")
        }
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        # The table as the template defines it (keys, indexes and their projections).
        table = load_template()["Resources"]["JobsTable"]["Properties"]
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=table["AttributeDefinitions"],
            KeySchema=table["KeySchema"],
            GlobalSecondaryIndexes=table["GlobalSecondaryIndexes"],
        )
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in (UPLOADS, REPORTS):
            s3.create_bucket(Bucket=bucket)
        boto3.client("scheduler", region_name=REGION).create_schedule_group(Name=SCHEDULE_GROUP)
        env = {
            "SKYLANE_STAGE": "local",
            "JOBS_TABLE": TABLE,
            "UPLOADS_BUCKET": UPLOADS,
            "REPORTS_BUCKET": REPORTS,
            "HIGH_QUEUE_URL": queues["high"],
            "DEFAULT_QUEUE_URL": queues["default"],
            "HIGH_DLQ_URL": queues["high-dlq"],
            "DEFAULT_DLQ_URL": queues["default-dlq"],
            "EMAIL_SENDER": SENDER,
            "RETRY_COUNTDOWN_SECONDS": "1",
            # The runtime schedules' group and target (template.yaml's ScheduleGroup).
            "SCHEDULE_GROUP": SCHEDULE_GROUP,
            "SCHEDULER_FUNCTION_ARN": SCHEDULER_FUNCTION_ARN,
            "SCHEDULER_INVOKE_ROLE_ARN": SCHEDULER_INVOKE_ROLE_ARN,
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        _clear_caches()
        yield {"queues": queues, **env}
        _clear_caches()
