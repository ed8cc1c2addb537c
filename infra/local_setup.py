"""Setup the emulator needs after the stack is created: what AWS does that an emulator's
CloudFormation does not."""

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.emulator import AwsEndpoint
from infra.emulator_schedules import made_by_the_emulator
from infra.images.build import host_architecture
from infra.schedules import SCHEDULER_EVENT, read_schedules
from infra.template import TEMPLATE_PATH, DeployedStack, deploy, load_template

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient


# What the local stage chooses where the template's defaults are for AWS: an open API (the
# template defaults to IAM; locally the API runs under uvicorn and nothing signs requests), and
# the worker image this machine builds (`make worker-image`), which the template cannot default.
LOCAL_PARAMETERS = {
    "Stage": "local",
    "ApiAuth": "NONE",
    "WorkerImageUri": host_architecture().worker,
}


def verify_email_sender(endpoint: AwsEndpoint, stack: DeployedStack) -> str:
    """Verify the worker's sender address; SES refuses mail from an unverified identity.

    On AWS a person verifies it once by clicking the link SES mails to the address.
    """
    sender = stack.worker_env["EMAIL_SENDER"]
    ses: SESClient = endpoint.client("ses")
    ses.verify_email_identity(EmailAddress=sender)
    return sender


def apply_properties_moto_ignores(endpoint: AwsEndpoint, stack: DeployedStack) -> None:
    """Apply the template's table TTL and bucket public-access blocks to the created resources.

    moto's CloudFormation creates tables and buckets but skips these two properties. Values come
    from template.yaml itself, so the local resources still match what AWS would create.
    """
    resources: dict[str, Any] = load_template()["Resources"]
    for logical_id, resource in resources.items():
        properties = resource.get("Properties", {})
        physical_id = stack.physical_ids.get(logical_id)
        if physical_id is None:
            continue
        ttl = properties.get("TimeToLiveSpecification")
        if resource["Type"] == "AWS::DynamoDB::Table" and ttl:
            dynamodb = endpoint.client("dynamodb")
            # Only where the emulator left it out: AWS refuses a second UpdateTimeToLive
            # (emulators accept it), and MiniStack applies the template's own.
            current = dynamodb.describe_time_to_live(TableName=physical_id)
            if current["TimeToLiveDescription"].get("TimeToLiveStatus") not in (
                "ENABLED",
                "ENABLING",
            ):
                dynamodb.update_time_to_live(TableName=physical_id, TimeToLiveSpecification=ttl)
        block = properties.get("PublicAccessBlockConfiguration")
        if resource["Type"] == "AWS::S3::Bucket" and block:
            endpoint.client("s3").put_public_access_block(
                Bucket=physical_id, PublicAccessBlockConfiguration=block
            )


def schedule_group_names(template: Mapping[str, Any], stack_name: str) -> list[str]:
    """The Name of each AWS::Scheduler::ScheduleGroup (a string or a Sub of the stack name)."""
    names = []
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Scheduler::ScheduleGroup":
            continue
        name = resource.get("Properties", {}).get("Name")
        if isinstance(name, dict) and isinstance(name.get("Fn::Sub"), str):
            name = name["Fn::Sub"].replace("${AWS::StackName}", stack_name)
        if not isinstance(name, str) or "${" in name:
            raise ValueError(f"a schedule group's Name the local stack cannot resolve: {name!r}")
        names.append(name)
    return names


def create_schedule_groups(endpoint: AwsEndpoint, stack: DeployedStack) -> None:
    """The template's schedule groups, which moto's CloudFormation does not create.

    Kept when they exist: moto replaces a group created twice, and its schedules with it.
    """
    scheduler = endpoint.client("scheduler")
    for name in schedule_group_names(load_template(), stack.stack_name):
        try:
            scheduler.get_schedule_group(Name=name)
        except scheduler.exceptions.ResourceNotFoundException:
            scheduler.create_schedule_group(Name=name)


def create_template_schedules(endpoint: AwsEndpoint, stack: DeployedStack) -> None:
    """The template's ScheduleV2 events as Scheduler schedules, which moto's CFN does not create.

    Stored only, so that the API lists them as on AWS: infra/scheduler_runner.py fires them
    from the template itself.
    """
    scheduler = endpoint.client("scheduler")
    functions = endpoint.client("lambda")
    for schedule in read_schedules(load_template()):
        if schedule.event_type != SCHEDULER_EVENT:
            continue
        if made_by_the_emulator(scheduler, stack.physical_ids, schedule):
            continue  # MiniStack's, disabled there: a second, enabled copy would fire too
        function_arn = functions.get_function(FunctionName=stack.physical_ids[schedule.function])[
            "Configuration"
        ]["FunctionArn"]
        # SAM's role for the event, <Function><Event>Role.
        role = stack.physical_ids.get(f"{schedule.function}{schedule.name}Role", "")
        request: dict[str, Any] = {
            "Name": schedule.resource_name(stack.stack_name),
            "GroupName": schedule.group,
            "ScheduleExpression": schedule.expression,
            "ScheduleExpressionTimezone": schedule.timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED" if schedule.enabled else "DISABLED",
            "Target": {
                "Arn": function_arn,
                "RoleArn": f"arn:aws:iam::{function_arn.split(':')[4]}:role/{role}",
                "Input": schedule.input or "{}",
            },
        }
        # One made for this stack before (a reused stack) stays as it is.
        with contextlib.suppress(scheduler.exceptions.ConflictException):
            scheduler.create_schedule(**request)


def prepare(endpoint: AwsEndpoint, stack: DeployedStack) -> None:
    apply_properties_moto_ignores(endpoint, stack)
    verify_email_sender(endpoint, stack)
    create_schedule_groups(endpoint, stack)
    create_template_schedules(endpoint, stack)


def deploy_local(
    endpoint: AwsEndpoint,
    parameters: Mapping[str, str],
    stack_name: str,
    template_path: Path = TEMPLATE_PATH,
) -> DeployedStack:
    """The template's stack on the emulator, as every local entry point needs it.

    Stage=local with LocalEndpointUrl (so the functions' environment names the emulator), then
    what moto's CloudFormation leaves out. `make up`, the integration tests and `make bench`
    all start from here, with LOCAL_PARAMETERS under their own.
    """
    stack = deploy(
        endpoint,
        {**LOCAL_PARAMETERS, **parameters, "LocalEndpointUrl": endpoint.url},
        stack_name=stack_name,
        template_path=template_path,
    )
    prepare(endpoint, stack)
    return stack
