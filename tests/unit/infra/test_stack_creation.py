"""Stack creation as AWS does it, on moto's server: the template from S3 within CloudFormation's
limits, a failed stack made anew, and every failure reason on one line."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import botocore.session
import pytest
from botocore.stub import Stubber
from moto.cloudformation.models import cloudformation_backends
from moto.core import DEFAULT_ACCOUNT_ID

from infra.emulator import AwsEndpoint, Emulator, start_moto
from infra.template import (
    TEMPLATE_BODY_LIMIT,
    TEMPLATE_URL_LIMIT,
    DeployError,
    Template,
    create_or_update_stack,
    failure_reasons,
    load_template,
    sam_transform,
    stack_status,
    upload_template,
    with_placeholder_code,
)

UNREACHABLE = AwsEndpoint(url="http://127.0.0.1:9")
BUCKET = "stack-creation-artifacts"
ONE_QUEUE: Template = {"Resources": {"Jobs": {"Type": "AWS::SQS::Queue"}}}


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    server = start_moto(port=0)
    server.endpoint.client("s3").create_bucket(Bucket=BUCKET)
    yield server
    server.stop()


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_transformed_template_fits_what_cloudformation_reads_from_s3(stage: str) -> None:
    template = with_placeholder_code(load_template(), "s3://artifacts/placeholder.zip")
    body = json.dumps(sam_transform(template, {"Stage": stage}, UNREACHABLE))
    # Already too big for TemplateBody (the reason it goes through S3), within TemplateURL's.
    assert len(body.encode()) <= TEMPLATE_URL_LIMIT


def test_a_template_over_the_limit_is_refused_before_it_is_sent(emulator: Emulator) -> None:
    padding = "x" * TEMPLATE_URL_LIMIT
    body = json.dumps({**ONE_QUEUE, "Description": padding})
    with pytest.raises(DeployError, match=r"over CloudFormation's 1,048,576-byte limit"):
        upload_template(emulator.endpoint, BUCKET, "too-big", body)


def test_the_stack_is_created_from_its_template_in_s3(emulator: Emulator) -> None:
    # Over TemplateBody's limit: only a TemplateURL can carry it, as on AWS.
    body = json.dumps({**ONE_QUEUE, "Description": "d" * TEMPLATE_BODY_LIMIT})
    url = upload_template(emulator.endpoint, BUCKET, "from-s3", body)
    assert url.startswith(f"https://s3.amazonaws.com/{BUCKET}/templates/from-s3-")
    create_or_update_stack(emulator.endpoint, "from-s3", url, {})
    cloudformation = emulator.endpoint.client("cloudformation")
    assert stack_status(cloudformation, "from-s3") == "CREATE_COMPLETE"
    stored = cloudformation.get_template(StackName="from-s3")["TemplateBody"]
    template = stored if isinstance(stored, dict) else json.loads(stored)
    assert template["Description"] == "d" * TEMPLATE_BODY_LIMIT


def test_a_stack_whose_creation_failed_is_deleted_and_made_again(emulator: Emulator) -> None:
    endpoint = emulator.endpoint
    cloudformation = endpoint.client("cloudformation")
    url = upload_template(endpoint, BUCKET, "failed", json.dumps(ONE_QUEUE))
    create_or_update_stack(endpoint, "failed", url, {})
    first_id = cloudformation.describe_stacks(StackName="failed")["Stacks"][0]["StackId"]
    # moto never rolls a creation back (an error stops it half way); MiniStack and AWS do:
    # the stack is left as they leave it (tests/integration/test_stack_recreation.py there).
    backend = cloudformation_backends[DEFAULT_ACCOUNT_ID][endpoint.region]
    backend.stacks[first_id].status = "ROLLBACK_COMPLETE"

    fixed = {
        "Resources": {"Jobs": {"Type": "AWS::SQS::Queue"}, "More": {"Type": "AWS::SNS::Topic"}}
    }
    create_or_update_stack(
        endpoint, "failed", upload_template(endpoint, BUCKET, "failed", json.dumps(fixed)), {}
    )

    stack = cloudformation.describe_stacks(StackName="failed")["Stacks"][0]
    assert stack["StackId"] != first_id
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    resources = cloudformation.list_stack_resources(StackName="failed")["StackResourceSummaries"]
    assert {resource["LogicalResourceId"] for resource in resources} == {"Jobs", "More"}


def _event(logical_id: str, status: str, reason: str = "") -> dict[str, object]:
    return {
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "EventId": f"{logical_id}-{status}",
        "StackName": "s",
        "LogicalResourceId": logical_id,
        "Timestamp": datetime(2026, 1, 1, tzinfo=UTC),
        "ResourceStatus": status,
        "ResourceStatusReason": reason,
    }


def test_failure_reasons_come_from_every_page_on_one_short_line() -> None:
    # A stand-in for CloudFormation: the stack's 233 events come in pages of 100.
    client = botocore.session.get_session().create_client(
        "cloudformation",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    filler = [_event(f"Queue{n}", "CREATE_COMPLETE") for n in range(100)]
    traceback = "Traceback (most recent call last):\n" + "  template: {...}\n" * 500
    stubber = Stubber(client)
    stubber.add_response("describe_stack_events", {"StackEvents": filler, "NextToken": "2"})
    stubber.add_response(
        "describe_stack_events",
        {
            "StackEvents": [
                *filler[:50],
                _event("WorkerService", "CREATE_FAILED", "DesiredCount must be an integer"),
                _event("WorkerService", "CREATE_FAILED", "an older attempt"),
                _event("Alarm", "CREATE_FAILED", traceback),
            ],
            "NextToken": "3",
        },
    )
    stubber.add_response("describe_stack_events", {"StackEvents": filler[:33]})
    with stubber:
        line = failure_reasons(client, "s")
    assert "\n" not in line
    assert line.startswith("WorkerService: DesiredCount must be an integer; Alarm: Traceback")
    assert "an older attempt" not in line
    assert len(line) < 400
    assert line.endswith("...")
