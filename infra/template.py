"""template.yaml deployed as a CloudFormation stack on the emulator, and read back.

Every local process gets the environment the template gives its AWS counterpart, so the names
(table, buckets, queue URLs) are the stack's, never a second copy kept here.
"""

import contextlib
import copy
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import botocore.exceptions
from cfn_tools import dump_json, load_yaml
from samtranslator.metrics.metrics import Metrics
from samtranslator.parser.parser import Parser
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import (
    to_py27_compatible_template,
    undo_mark_unicode_str_in_template,
)

from infra.emulator import AwsEndpoint
from infra.template_gaps import apply_gaps

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
DEFAULT_STACK_NAME = "skylane-local"
API_FUNCTION = "ApiFunction"
WORKER_TASK_DEFINITION = "WorkerTaskDefinition"
PLACEHOLDER_KEY = "placeholder.zip"
LAMBDA_LOG_GROUP_VARIABLE = "AWS_LAMBDA_LOG_GROUP_NAME"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]

Template = dict[str, Any]


class DeployError(RuntimeError):
    pass


@dataclass(frozen=True)
class DeployedStack:
    stack_name: str
    outputs: dict[str, str]
    parameters: dict[str, str]
    physical_ids: dict[str, str]
    # Every Lambda function's environment, by logical id (the API and the scheduler).
    function_envs: dict[str, dict[str, str]] = field(default_factory=dict)
    worker_env: dict[str, str] = field(default_factory=dict)
    # The worker's container definition as ECS describes it (its filesystem, mounts, stop timeout).
    worker_container: dict[str, Any] = field(default_factory=dict)
    # The role each Lambda function runs with (by logical id), and the worker task's role.
    function_roles: dict[str, str] = field(default_factory=dict)
    worker_task_role: str = ""

    @property
    def api_env(self) -> dict[str, str]:
        return self.function_envs[API_FUNCTION]

    def component_env(self, component: str) -> dict[str, str]:
        """The environment of "api", "worker", or a function by logical id."""
        if component == "api":
            return self.api_env
        if component == "worker":
            return self.worker_env
        return self.function_envs[component]


def load_template(path: Path = TEMPLATE_PATH) -> Template:
    # cfn_tools turns the short intrinsics (!Ref, !Sub) into their JSON form; dumping and parsing
    # back leaves plain dicts the SAM translator accepts.
    loaded: Template = json.loads(dump_json(load_yaml(path.read_text())))
    return loaded


def with_placeholder_code(template: Template, code_uri: str) -> Template:
    """The template with every function's local CodeUri replaced by an S3 URI.

    The emulator only stores function code, never runs it (the API runs under uvicorn), and
    CloudFormation cannot read a local path.
    """
    rewritten = copy.deepcopy(template)
    for resource in rewritten.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = code_uri
    return rewritten


def sam_transform(
    template: Template, parameters: Mapping[str, str], endpoint: AwsEndpoint
) -> Template:
    """What the AWS::Serverless-2016-10-31 transform does on AWS, run here.

    This is samtranslator's ``transform`` with the endpoint's session: the stock one builds a
    default boto3 session, whose region would come from this process's environment.
    """
    template = copy.deepcopy(template)
    values: dict[str, Any] = dict(parameters)
    to_py27_compatible_template(template, values)
    metrics = Metrics()
    translator = Translator(None, Parser(), boto_session=endpoint.session, metrics=metrics)
    policies = ManagedPolicyLoader(endpoint.client("iam"))
    translated = translator.translate(
        template, parameter_values=values, get_managed_policy_map=policies.load
    )
    # Unpublished metrics make the translator warn when it is collected; the publisher is a no-op.
    metrics.publish()
    transformed: Template = undo_mark_unicode_str_in_template(translated)
    return transformed


def upload_placeholder_code(endpoint: AwsEndpoint, bucket: str) -> str:
    s3: S3Client = endpoint.client("s3")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("README", "placeholder: the local stack runs this function's code itself\n")
    s3.put_object(Bucket=bucket, Key=PLACEHOLDER_KEY, Body=archive.getvalue())
    return f"s3://{bucket}/{PLACEHOLDER_KEY}"


def _as_text(value: object) -> str:
    # Lambda hands back template numbers as JSON numbers; processes read strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# What CloudFormation accepts: a TemplateBody of at most 51,200 bytes, a template read from S3
# (TemplateURL) of at most 1 MB. moto checks neither; skylane does, as AWS would.
TEMPLATE_BODY_LIMIT = 51_200
TEMPLATE_URL_LIMIT = 1_048_576
TEMPLATES_PREFIX = "templates"
# A stack in one of these can only be deleted (AWS refuses to update it).
FAILED_CREATION = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"})
# Long reasons (an emulator's traceback, a template echoed back) are cut to this.
REASON_CHARACTERS = 300


def check_template_size(body: str, limit: int = TEMPLATE_URL_LIMIT) -> None:
    """Refuse a template CloudFormation would refuse, before sending it."""
    size = len(body.encode())
    if size > limit:
        raise DeployError(
            f"the transformed template is {size:,} bytes, over CloudFormation's {limit:,}-byte "
            "limit: split the stack or move resources out of it"
        )


def upload_template(endpoint: AwsEndpoint, bucket: str, stack_name: str, body: str) -> str:
    """Store the template in S3 and return its TemplateURL, as `sam deploy` does.

    The global S3 address (https://s3.amazonaws.com/bucket/key) is the one every emulator
    reads from its own S3 (moto does not follow http://127.0.0.1:PORT/...).
    """
    check_template_size(body, TEMPLATE_URL_LIMIT)
    key = f"{TEMPLATES_PREFIX}/{stack_name}-{hashlib.sha256(body.encode()).hexdigest()[:16]}.json"
    s3: S3Client = endpoint.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/json")
    return f"https://s3.amazonaws.com/{bucket}/{key}"


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= REASON_CHARACTERS else line[: REASON_CHARACTERS - 3] + "..."


def stack_status(cloudformation: "CloudFormationClient", stack_name: str) -> str | None:
    """The stack's status, or None when there is none (or only a deleted one)."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except botocore.exceptions.ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    live = [stack["StackStatus"] for stack in stacks if stack["StackStatus"] != "DELETE_COMPLETE"]
    return live[0] if live else None


def failure_reasons(cloudformation: "CloudFormationClient", stack_name: str) -> str:
    """Every failed resource's reason, from every page of the stack's events, on one line."""
    pages = cloudformation.get_paginator("describe_stack_events").paginate(StackName=stack_name)
    reasons: dict[str, str] = {}
    for page in pages:
        for event in page["StackEvents"]:
            if event["ResourceStatus"].endswith("FAILED"):
                # Newest first: the first reason seen for a resource is its latest.
                reasons.setdefault(
                    event["LogicalResourceId"], _short(event.get("ResourceStatusReason", ""))
                )
    return "; ".join(f"{logical_id}: {why}" for logical_id, why in reasons.items()) or (
        "no failure reason reported"
    )


def _wait(cloudformation: "CloudFormationClient", waiter_name: str, stack_name: str) -> None:
    try:
        cloudformation.get_waiter(waiter_name).wait(  # type: ignore[call-overload]
            StackName=stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 600}
        )
    except botocore.exceptions.WaiterError as error:
        reasons = failure_reasons(cloudformation, stack_name)
        raise DeployError(f"stack {stack_name} did not deploy: {reasons}") from error


def _refused(stack_name: str, error: botocore.exceptions.ClientError) -> DeployError:
    details = error.response.get("Error", {})
    code = details.get("Code", "error")
    return DeployError(
        f"CloudFormation refused stack {stack_name}: {code}: {_short(details.get('Message', ''))}"
    )


def create_or_update_stack(
    endpoint: AwsEndpoint,
    stack_name: str,
    template_url: str,
    parameters: Mapping[str, str],
) -> None:
    cloudformation: CloudFormationClient = endpoint.client("cloudformation")
    request: dict[str, Any] = {
        "StackName": stack_name,
        "TemplateURL": template_url,
        "Parameters": [
            {"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()
        ],
        "Capabilities": CAPABILITIES,
    }
    status = stack_status(cloudformation, stack_name)
    if status in FAILED_CREATION:
        # As on AWS: a stack whose creation failed cannot be updated, only deleted and made anew.
        cloudformation.delete_stack(StackName=stack_name)
        _wait(cloudformation, "stack_delete_complete", stack_name)
        status = None
    # Updated, not replaced: moto cannot delete this stack (it deletes the VPC before its
    # subnets), and an emulator that outlives us (LocalStack) keeps its data.
    try:
        if status is not None:
            try:
                cloudformation.update_stack(**request)
            except botocore.exceptions.ClientError as error:
                if "No updates are to be performed" in str(error):
                    return
                raise
            _wait(cloudformation, "stack_update_complete", stack_name)
        else:
            cloudformation.create_stack(**request)
            _wait(cloudformation, "stack_create_complete", stack_name)
    except botocore.exceptions.ClientError as error:
        raise _refused(stack_name, error) from None


def read_stack(endpoint: AwsEndpoint, stack_name: str) -> DeployedStack:
    cloudformation: CloudFormationClient = endpoint.client("cloudformation")
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    summaries = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
    resources = [summary for page in summaries for summary in page["StackResourceSummaries"]]
    physical_ids = {
        resource["LogicalResourceId"]: resource.get("PhysicalResourceId", "")
        for resource in resources
    }

    lambda_client: LambdaClient = endpoint.client("lambda")
    function_envs = {}
    function_roles = {}
    for resource in resources:
        if resource["ResourceType"] == "AWS::Lambda::Function":
            configuration = lambda_client.get_function_configuration(
                FunctionName=resource["PhysicalResourceId"]
            )
            function_roles[resource["LogicalResourceId"]] = configuration["Role"]
            variables = configuration.get("Environment", {}).get("Variables", {})
            function_envs[resource["LogicalResourceId"]] = {
                name: _as_text(value) for name, value in variables.items()
            } | {
                # As Lambda sets it in every function's environment: its default log group,
                # the one the template's <Function>LogGroup names.
                LAMBDA_LOG_GROUP_VARIABLE: f"/aws/lambda/{resource['PhysicalResourceId']}"
            }

    ecs: ECSClient = endpoint.client("ecs")
    task_definition = ecs.describe_task_definition(
        taskDefinition=physical_ids[WORKER_TASK_DEFINITION]
    )["taskDefinition"]
    worker_container: dict[str, Any] = dict(task_definition["containerDefinitions"][0])
    worker_env = {
        variable["name"]: _as_text(variable["value"])
        for variable in worker_container.pop("environment", [])
    }
    if not worker_env:
        # moto re-registers a task definition updated through CloudFormation without its
        # container environment; a fresh emulator has no stack to update.
        raise DeployError(
            f"the worker task definition of stack {stack_name} has no environment: "
            "moto loses it when a stack is updated; restart the emulator"
        )

    return DeployedStack(
        stack_name=stack_name,
        outputs={output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])},
        parameters={
            parameter["ParameterKey"]: parameter["ParameterValue"]
            for parameter in stack.get("Parameters", [])
        },
        physical_ids=physical_ids,
        function_envs=function_envs,
        worker_env=worker_env,
        worker_container=worker_container,
        function_roles=function_roles,
        worker_task_role=task_definition.get("taskRoleArn", ""),
    )


def deploy(
    endpoint: AwsEndpoint,
    parameters: Mapping[str, str] | None = None,
    stack_name: str = DEFAULT_STACK_NAME,
    template_path: Path = TEMPLATE_PATH,
) -> DeployedStack:
    """Create (or update) the stack from template.yaml and read back what processes need.

    The emulator gets the transformed template with its declared gaps applied
    (infra/template_gaps.py), from S3 as `sam deploy` sends it.
    """
    overrides = dict(parameters or {})
    artifacts = f"{stack_name.lower()}-artifacts"
    code_uri = upload_placeholder_code(endpoint, artifacts)
    template = with_placeholder_code(load_template(template_path), code_uri)
    transformed = sam_transform(template, overrides, endpoint)
    for_emulator = apply_gaps(transformed, endpoint.kind, overrides).template
    template_url = upload_template(endpoint, artifacts, stack_name, json.dumps(for_emulator))
    create_or_update_stack(endpoint, stack_name, template_url, overrides)
    return read_stack(endpoint, stack_name)
