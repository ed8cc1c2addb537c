"""The stack created from template.yaml has what production relies on (checked in the emulator)."""

import json

import pytest

from skylane.core.settings import Settings
from tests.integration.conftest import PARAMETERS, LocalStack

pytestmark = pytest.mark.integration

REQUIRED_SETTINGS = {name.upper() for name, f in Settings.model_fields.items() if f.is_required()}


@pytest.mark.parametrize(
    ("queue", "dlq"),
    [("high_queue_url", "high_dlq_url"), ("default_queue_url", "default_dlq_url")],
)
def test_queues_redrive_to_their_dead_letter_queue(
    local_stack: LocalStack, queue: str, dlq: str
) -> None:
    sqs = local_stack.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=getattr(local_stack, queue), AttributeNames=["All"]
    )["Attributes"]
    dlq_arn = sqs.get_queue_attributes(
        QueueUrl=getattr(local_stack, dlq), AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq_arn
    assert int(redrive["maxReceiveCount"]) == int(PARAMETERS["MaxReceiveCount"])
    assert attributes["VisibilityTimeout"] == PARAMETERS["QueueVisibilityTimeoutSeconds"]
    assert attributes["SqsManagedSseEnabled"] == "true"


def test_the_job_table_expires_records_and_has_its_indexes(local_stack: LocalStack) -> None:
    dynamodb = local_stack.client("dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName=local_stack.table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    table = dynamodb.describe_table(TableName=local_stack.table)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {
        "by_user",
        "by_day",
    }


@pytest.mark.parametrize("bucket", ["uploads_bucket", "reports_bucket"])
def test_buckets_block_public_access_and_encrypt(local_stack: LocalStack, bucket: str) -> None:
    s3 = local_stack.client("s3")
    name = getattr(local_stack, bucket)
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    encryption = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_every_component_gets_the_settings_its_code_reads(local_stack: LocalStack) -> None:
    envs = local_stack.stack.function_envs
    for component, env in {
        "ApiFunction": envs["ApiFunction"],
        "SchedulerFunction": envs["SchedulerFunction"],
        "worker": local_stack.stack.worker_env,
    }.items():
        missing = {name for name in REQUIRED_SETTINGS if not env.get(name)}
        assert not missing, f"{component} lacks {missing}"
    assert local_stack.stack.worker_env["EMAIL_SENDER"]
    assert local_stack.stack.worker_env["NOTIFICATIONS_TOPIC_ARN"].startswith("arn:aws:sns:")
    assert envs["ApiFunction"]["HIGH_DLQ_URL"] == local_stack.high_dlq_url
    assert envs["ApiFunction"]["DEFAULT_DLQ_URL"] == local_stack.default_dlq_url
