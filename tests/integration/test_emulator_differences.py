"""What AWS does that moto does not, checked on the emulators that do it (MiniStack)."""

import json
import re
import time

import httpx
import pytest
from botocore.config import Config

from infra.emulators import MINISTACK_KIND
from infra.template import DeployError, create_or_update_stack, stack_status, upload_template
from tests.integration.conftest import LocalStack, requires_emulator
from tests.integration.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.every_emulator]

# MiniStack deletes expired items once a minute.
TTL_SWEEP_WITHIN_SECONDS = 75


def _ticket(local_stack: LocalStack, content_type: str = "text/plain") -> dict[str, str]:
    answer = httpx.post(
        f"{local_stack.api_url}/uploads",
        json={"filename": "notes.txt", "content_type": content_type},
    )
    assert answer.status_code == 201, answer.text
    ticket: dict[str, str] = answer.json()
    return ticket


def test_a_presigned_upload_is_refused_when_tampered_with_or_expired(
    local_stack: LocalStack,
) -> None:
    requires_emulator(local_stack, "verifies_presigned_urls")
    ticket = _ticket(local_stack)
    url = ticket["upload_url"]
    # Another Content-Type than the signed one, another key, a changed signature: refused.
    other_type = httpx.put(url, content=b"x", headers={"Content-Type": "text/html"})
    assert other_type.status_code == 403, other_type.text
    other_key = httpx.put(
        url.replace(ticket["key"], ticket["key"] + "-other"),
        content=b"x",
        headers={"Content-Type": "text/plain"},
    )
    assert other_key.status_code == 403, other_key.text
    signature = re.search(r"Signature=([0-9a-f]+)", url)
    assert signature is not None
    forged = url.replace(signature.group(1), "0" * len(signature.group(1)))
    assert (
        httpx.put(forged, content=b"x", headers={"Content-Type": "text/plain"}).status_code == 403
    )
    # As signed: accepted.
    good = httpx.put(url, content=b"hello", headers={"Content-Type": "text/plain"})
    assert good.status_code == 200, good.text

    # Expired: a URL valid for one second, used after two (signed as the API signs, SigV4).
    s3 = local_stack.endpoint.session.client(
        "s3", endpoint_url=local_stack.endpoint.url, config=Config(signature_version="s3v4")
    )
    short = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": local_stack.uploads_bucket, "Key": "expiring.txt"},
        ExpiresIn=1,
    )
    time.sleep(2)
    expired = httpx.put(short, content=b"late")
    assert expired.status_code == 403, expired.text


def test_an_expired_job_record_is_deleted_by_ttl(local_stack: LocalStack) -> None:
    requires_emulator(local_stack, "expires_ttl_items")
    dynamodb = local_stack.client("dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName=local_stack.table)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    attribute = ttl["AttributeName"]
    past = str(int(time.time()) - 60)
    future = str(int(time.time()) + 3600)
    for job_id, expires in (("ttl-expired", past), ("ttl-current", future)):
        dynamodb.put_item(
            TableName=local_stack.table,
            Item={"job_id": {"S": job_id}, "state": {"S": "SUCCESS"}, attribute: {"N": expires}},
        )

    def present(job_id: str) -> bool:
        item = dynamodb.get_item(TableName=local_stack.table, Key={"job_id": {"S": job_id}})
        return "Item" in item

    wait_until(lambda: not present("ttl-expired"), TTL_SWEEP_WITHIN_SECONDS, "the TTL deletion")
    assert present("ttl-current")


def test_a_stack_whose_creation_failed_is_made_again(local_stack: LocalStack) -> None:
    requires_emulator(local_stack, "rolls_back_failed_creation")
    endpoint = local_stack.endpoint
    bucket = local_stack.uploads_bucket
    # A metric-math alarm: MiniStack's CloudFormation fails on it and rolls the stack back.
    failing = {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Alarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "DependsOn": "Queue",
                "Properties": {
                    "ComparisonOperator": "GreaterThanThreshold",
                    "EvaluationPeriods": 1,
                    "Threshold": 1,
                    "Metrics": [{"Id": "e1", "Expression": "1 + 1", "ReturnData": True}],
                },
            },
        }
    }
    assert endpoint.kind is MINISTACK_KIND, "the failing template is MiniStack's gap"
    url = upload_template(endpoint, bucket, "skylane-it-recreated", json.dumps(failing))
    with pytest.raises(DeployError, match=r"did not deploy: .*Alarm: ") as refused:
        create_or_update_stack(endpoint, "skylane-it-recreated", url, {})
    assert "\n" not in str(refused.value)
    cloudformation = local_stack.client("cloudformation")
    assert stack_status(cloudformation, "skylane-it-recreated") == "ROLLBACK_COMPLETE"

    fixed = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
    url = upload_template(endpoint, bucket, "skylane-it-recreated", json.dumps(fixed))
    create_or_update_stack(endpoint, "skylane-it-recreated", url, {})
    assert stack_status(cloudformation, "skylane-it-recreated") == "CREATE_COMPLETE"
