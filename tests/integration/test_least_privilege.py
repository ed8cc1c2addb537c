"""Each component runs as its own template role and the emulator enforces it.

What a role does not grant is refused (the admin's same call gets past authorization, so the
refusal is the role's), and a permission taken out of the template makes a job fail with an
error that names the refused call.
"""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from infra import local_iam, local_setup
from infra.emulator import AwsEndpoint, free_port
from infra.processes import child_environment, start_api, start_worker, stop_all
from infra.template import load_template
from tests.integration.client import follow, submit, upload
from tests.integration.conftest import PARAMETERS, WORKER_READY, LocalStack

pytestmark = pytest.mark.integration

NO_SUCH_QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/skylane-it-no-such-queue"

Call = Callable[[AwsEndpoint, LocalStack], Any]


def refusal(call: Call, endpoint: AwsEndpoint, stack: LocalStack) -> ClientError | None:
    """AWS's refusal of the identity (403), or None when the call got past authorization."""
    try:
        call(endpoint, stack)
    except ClientError as error:
        if error.response["ResponseMetadata"]["HTTPStatusCode"] == 403:
            return error
    return None


def s3_put(bucket_output: str) -> Call:
    return lambda e, s: e.client("s3").put_object(
        Bucket=s.outputs[bucket_output], Key="least-privilege/probe.txt", Body=b"x"
    )


def s3_get(bucket_output: str) -> Call:
    return lambda e, s: e.client("s3").get_object(
        Bucket=s.outputs[bucket_output], Key="least-privilege/missing.txt"
    )


def sqs_send(queue_output: str) -> Call:
    # A delay SQS refuses after authorization (over 900 s): the admin's call gets past
    # authorization and sends nothing, so no probe is left in a queue the other tests drain.
    return lambda e, s: e.client("sqs").send_message(
        QueueUrl=s.outputs[queue_output], MessageBody="{}", DelaySeconds=901
    )


def sqs_receive(queue_output: str) -> Call:
    return lambda e, s: e.client("sqs").receive_message(
        QueueUrl=s.outputs[queue_output], VisibilityTimeout=0, WaitTimeSeconds=0
    )


def delete_queue(e: AwsEndpoint, s: LocalStack) -> Any:
    return e.client("sqs").delete_queue(QueueUrl=NO_SUCH_QUEUE)


def delete_table(e: AwsEndpoint, s: LocalStack) -> Any:
    return e.client("dynamodb").delete_table(TableName="skylane-it-no-such-table")


def scan_table(e: AwsEndpoint, s: LocalStack) -> Any:
    return e.client("dynamodb").scan(TableName=s.table, Limit=1)


def get_item(e: AwsEndpoint, s: LocalStack) -> Any:
    return e.client("dynamodb").get_item(
        TableName=s.table, Key={"job_id": {"S": "least-privilege-no-such-job"}}
    )


def send_mail(e: AwsEndpoint, s: LocalStack) -> Any:
    return e.client("ses").send_email(
        Source=s.stack.worker_env["EMAIL_SENDER"],
        Destination={"ToAddresses": ["nobody@example.com"]},
        Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
    )


def delete_schedule_group(e: AwsEndpoint, s: LocalStack) -> Any:
    return e.client("scheduler").delete_schedule_group(Name="skylane-it-no-such-group")


def create_schedule(e: AwsEndpoint, s: LocalStack) -> Any:
    # In a group that does not exist: the admin's call creates nothing.
    return e.client("scheduler").create_schedule(
        Name="least-privilege-probe",
        GroupName="skylane-it-no-such-group",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": s.stack.api_env["SCHEDULER_FUNCTION_ARN"], "RoleArn": "x" * 20},
    )


# What each component must not do, by the template's roles.
REFUSED: dict[str, dict[str, Call]] = {
    "api": {
        "delete a queue": delete_queue,
        "write into the reports bucket": s3_put("ReportsBucketName"),
        "consume the high queue": sqs_receive("HighQueueUrl"),
        "send mail": send_mail,
        "delete the jobs table": delete_table,
        "delete a schedule group": delete_schedule_group,
    },
    local_iam.WORKER: {
        "write into the uploads bucket": s3_put("UploadsBucketName"),
        "read the reports bucket": s3_get("ReportsBucketName"),
        "send to the light queue": sqs_send("LightQueueUrl"),
        "delete a queue": delete_queue,
        # DeleteItem is granted: Celery deletes a chord's saved header group.
        "scan the jobs table": scan_table,
        "create a schedule": create_schedule,
    },
    "SchedulerFunction": {
        "read uploads": s3_get("UploadsBucketName"),
        "consume the default queue": sqs_receive("DefaultQueueUrl"),
        "send to a dead-letter queue": sqs_send("DefaultDeadLetterQueueUrl"),
        "read a job record": get_item,
        "delete a queue": delete_queue,
        "create a schedule": create_schedule,
    },
    "LightFunction": {
        "read uploads": s3_get("UploadsBucketName"),
        # Sending to the worker's queues is granted (chain steps, chord bodies); consuming
        # them is not (SAM's own role for an SQS event could consume every queue).
        "consume the high queue": sqs_receive("HighQueueUrl"),
        "delete a queue": delete_queue,
        "send mail": send_mail,
        "scan the jobs table": scan_table,
    },
}
CASES = [
    pytest.param(component, call, id=f"{component} cannot {what}")
    for component, calls in REFUSED.items()
    for what, call in calls.items()
]


@pytest.mark.parametrize(("component", "call"), CASES)
def test_a_component_is_refused_what_its_role_does_not_grant(
    local_stack: LocalStack, component: str, call: Call
) -> None:
    assert local_stack.identities.enforced, "IAM enforcement is off (SKYLANE_ENFORCE_IAM)"
    refused = refusal(call, local_stack.identities.endpoint(component), local_stack)
    assert refused is not None
    # moto answers JSON services with an XML body: botocore's code is then only the status.
    assert "AccessDenied" in str(refused)
    # The admin's same call gets past authorization (it may still fail for another reason).
    assert refusal(call, local_stack.endpoint, local_stack) is None


def test_a_presigned_url_carries_its_signers_permissions(local_stack: LocalStack) -> None:
    api_s3 = local_stack.identities.endpoint("api").client("s3")
    allowed = api_s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": local_stack.uploads_bucket, "Key": "uploads/least-privilege.txt"},
        ExpiresIn=60,
    )
    refused = api_s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": local_stack.reports_bucket, "Key": "least-privilege.txt"},
        ExpiresIn=60,
    )
    assert httpx.put(allowed, content=b"x", timeout=10).status_code == 200
    assert httpx.put(refused, content=b"x", timeout=10).status_code == 403


def template_without(sid: str, directory: Path) -> Path:
    """A copy of template.yaml whose worker task role lacks the statement ``sid``."""
    template = load_template()
    policy = template["Resources"]["WorkerTaskRole"]["Properties"]["Policies"][0]
    statements = policy["PolicyDocument"]["Statement"]
    kept = [statement for statement in statements if statement.get("Sid") != sid]
    assert len(kept) == len(statements) - 1, f"no statement {sid} in the worker's role"
    policy["PolicyDocument"]["Statement"] = kept
    copy = directory / "template.yaml"
    copy.write_text(json.dumps(template))
    return copy


@pytest.fixture
def stack_without_read_inputs(local_stack: LocalStack, tmp_path: Path) -> Iterator[str]:
    """A second stack from a template whose worker may not read uploads; its API's URL."""
    admin = local_stack.endpoint
    stack = local_setup.deploy_local(
        admin,
        PARAMETERS,
        "skylane-it-no-read-inputs",
        template_path=template_without("ReadInputs", tmp_path),
    )
    identities = local_iam.least_privilege(local_stack.emulator, admin, stack, enforce=True)
    port = free_port()
    api = start_api(
        child_environment(identities.env("api"), stack.api_env),
        local_stack.logs,
        port=port,
        name="api-no-read-inputs",
    )
    worker = start_worker(
        child_environment(identities.env(local_iam.WORKER), stack.worker_env),
        local_stack.logs,
        name="worker-no-read-inputs",
    )
    try:
        worker.wait_for_output(WORKER_READY, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_all([api, worker], grace=15)


def test_a_permission_taken_out_of_the_template_fails_the_job_and_names_it(
    local_stack: LocalStack, stack_without_read_inputs: str
) -> None:
    api_url = stack_without_read_inputs
    key = upload(api_url, "notes.txt", b"line\n" * 10, "text/plain")
    job_id = submit(api_url, "/process-file", {"file_path": key})
    final = follow(api_url, job_id).final
    assert final["state"] == "FAILURE", final
    # The error names the refused call, and the job failed at once: no retry, as if S3 were down.
    assert "S3 denied GetObject" in json.dumps(final), final
    record = local_stack.client("dynamodb").get_item(
        TableName="skylane-it-no-read-inputs-jobs", Key={"job_id": {"S": job_id}}
    )["Item"]
    assert record["attempts"] == {"N": "1"}, record
