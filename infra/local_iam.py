"""Least privilege on the embedded emulator: each component calls it as its own template role.

An admin creates the stack and the tests' setup; each component assumes the role CloudFormation
made for it from template.yaml, and moto enforces IAM (no-auth allowance zero, README:
*Security*).
"""

import ast
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx

from infra.emulator import AwsEndpoint, Emulator
from infra.processes import LIGHT_FUNCTION, SCHEDULER_FUNCTION
from infra.template import API_FUNCTION, WORKER_TASK_DEFINITION, DeployedStack, load_template

ENFORCE_VARIABLE = "SKYLANE_ENFORCE_IAM"
CREDENTIAL_VARIABLES = frozenset(
    {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
)
ADMIN_USER = "skylane-local-admin"
ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
# The components and the Lambda function whose role each runs with ("worker": the ECS task role).
COMPONENTS = {
    "api": API_FUNCTION,
    SCHEDULER_FUNCTION: SCHEDULER_FUNCTION,
    LIGHT_FUNCTION: LIGHT_FUNCTION,
}
WORKER = "worker"
# moto checks a statement's Resource only for these services (it names the queue, the bucket and
# key, the role); for every other service it authorizes against "*", which no ARN matches. A
# statement's actions of other services are therefore widened to Resource "*" locally: their
# actions are still enforced, their resources are not (the README's security section).
RESOURCE_AWARE_SERVICES = frozenset({"sqs", "s3", "iam", "sts"})
# AWS authorizes SQS's batch calls with the single-message permission; moto asks for the
# batch call's own name, which no policy grants.
SQS_BATCH_ACTIONS = {
    "sqs:DeleteMessage": "sqs:DeleteMessageBatch",
    "sqs:ChangeMessageVisibility": "sqs:ChangeMessageVisibilityBatch",
    "sqs:SendMessage": "sqs:SendMessageBatch",
}
# AWS authorizes a TransactWriteItems by the actions inside it (a condition check, a put);
# moto asks for the call's own name, granted locally where the condition check is.
LOCAL_CALL_NAMES = {
    **SQS_BATCH_ACTIONS,
    "dynamodb:ConditionCheckItem": "dynamodb:TransactWriteItems",
}


def available(emulator: Emulator) -> bool:
    """Whether this module can work on ``emulator``: moto's server embedded here, whose API
    (/moto-api/, its IAM backend) it needs. Every other emulator is skipped, here alone."""
    return emulator.embedded and emulator.kind.moto_api


def enforcement_wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """On unless SKYLANE_ENFORCE_IAM says off (0, false, off, no), for debugging."""
    return environ.get(ENFORCE_VARIABLE, "1").strip().lower() not in {"0", "false", "off", "no"}


@dataclass(frozen=True)
class Identities:
    """Who calls the emulator: the admin (setup, tests, the user's commands) and each component."""

    admin: AwsEndpoint
    components: dict[str, AwsEndpoint]
    enforced: bool

    def endpoint(self, component: str) -> AwsEndpoint:
        return self.components[component]

    def env(self, component: str) -> dict[str, str]:
        """AWS_ENDPOINT_URL, the component's credentials and the region."""
        return self.components[component].env()

    def credentials_env(self) -> dict[str, dict[str, str]]:
        """Each component's credential variables alone (for the stack's state file)."""
        return {
            component: {
                name: value
                for name, value in endpoint.env().items()
                if name in CREDENTIAL_VARIABLES
            }
            for component, endpoint in self.components.items()
        }


def create_admin(endpoint: AwsEndpoint) -> AwsEndpoint:
    """An IAM user allowed everything, with an access key: the identity of setup and tests."""
    iam = endpoint.client("iam")
    iam.create_user(UserName=ADMIN_USER)
    iam.put_user_policy(
        UserName=ADMIN_USER, PolicyName="everything", PolicyDocument=json.dumps(ADMIN_POLICY)
    )
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    return replace(
        endpoint, access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"]
    )


def _document(stored: Any) -> dict[str, Any]:
    """A policy document as moto returns it: JSON, or for CloudFormation's roles a Python repr."""
    if isinstance(stored, dict):
        return stored
    try:
        parsed = json.loads(stored)
    except ValueError:
        parsed = ast.literal_eval(stored)
    assert isinstance(parsed, dict)
    return parsed


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def adapt_statement(statement: dict[str, Any]) -> list[dict[str, Any]]:
    """The statement as moto can enforce it (RESOURCE_AWARE_SERVICES)."""
    if "Action" not in statement:
        return [statement]
    actions = _as_list(statement["Action"])
    actions = [*actions, *(LOCAL_CALL_NAMES[a] for a in actions if a in LOCAL_CALL_NAMES)]
    aware = [action for action in actions if action.split(":")[0] in RESOURCE_AWARE_SERVICES]
    other = [action for action in actions if action not in aware]
    adapted = []
    if aware:
        adapted.append({**statement, "Action": aware})
    if other:
        adapted.append({**statement, "Action": other, "Resource": "*"})
    return adapted


def batch_aliases(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Statements granting SQS's batch call names where ``document`` grants the single ones."""
    aliases = []
    for statement in _as_list(document["Statement"]):
        actions = _as_list(statement.get("Action", []))
        batch = [SQS_BATCH_ACTIONS[action] for action in actions if action in SQS_BATCH_ACTIONS]
        if batch and statement.get("Effect") == "Allow":
            aliases.append({"Effect": "Allow", "Action": batch, "Resource": statement["Resource"]})
    return aliases


def alias_managed_policies(admin: AwsEndpoint, role: str) -> None:
    """An inline policy with the batch names of what the role's managed policies grant."""
    iam = admin.client("iam")
    aliases = []
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(
            PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
        )["PolicyVersion"]
        aliases += batch_aliases(_document(version["Document"]))
    if aliases:
        iam.put_role_policy(
            RoleName=role,
            PolicyName="moto-sqs-batch-calls",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": aliases}),
        )


def adapt_role_policies(admin: AwsEndpoint, role_names: Iterable[str]) -> None:
    """Store each role's inline policies again as moto can evaluate them.

    moto keeps the inline policies of roles created through CloudFormation as Python objects,
    which its IAM enforcement cannot read; written back through the IAM API they are JSON.
    """
    iam = admin.client("iam")
    for role in role_names:
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            stored = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            document = _document(stored)
            statements = [
                adapted
                for statement in _as_list(document["Statement"])
                for adapted in adapt_statement(statement)
            ]
            iam.put_role_policy(
                RoleName=role,
                PolicyName=name,
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
            )
        alias_managed_policies(admin, role)


def worker_task_role(admin: AwsEndpoint, stack: DeployedStack) -> str:
    """The worker task's role ARN: as ECS reports it, or as the template names it.

    moto's CloudFormation registers the task definition without its taskRoleArn.
    """
    if stack.worker_task_role:
        return stack.worker_task_role
    task = load_template()["Resources"][WORKER_TASK_DEFINITION]["Properties"]
    logical_id = task["TaskRoleArn"]["Fn::GetAtt"][0]
    role = admin.client("iam").get_role(RoleName=stack.physical_ids[logical_id])["Role"]
    arn: str = role["Arn"]
    return arn


def _policy_arn(value: Any) -> str:
    if isinstance(value, dict) and "Fn::Sub" in value:
        value = value["Fn::Sub"]
    assert isinstance(value, str), value
    return value.replace("${AWS::Partition}", "aws")


def attach_managed_policies(admin: AwsEndpoint, stack: DeployedStack) -> None:
    """Attach each role's ManagedPolicyArns, which moto's CloudFormation leaves out."""
    body = admin.client("cloudformation").get_template(StackName=stack.stack_name)["TemplateBody"]
    resources = (json.loads(body) if isinstance(body, str) else body)["Resources"]
    iam = admin.client("iam")
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for arn in resource["Properties"].get("ManagedPolicyArns", []):
            iam.attach_role_policy(
                RoleName=stack.physical_ids[logical_id], PolicyArn=_policy_arn(arn)
            )


def role_arns(admin: AwsEndpoint, stack: DeployedStack) -> dict[str, str]:
    """Each component's role ARN, as Lambda and ECS report them."""
    arns = {component: stack.function_roles[function] for component, function in COMPONENTS.items()}
    arns[WORKER] = worker_task_role(admin, stack)
    return arns


def assume(admin: AwsEndpoint, role_arn: str, session_name: str) -> AwsEndpoint:
    credentials = admin.client("sts").assume_role(
        RoleArn=role_arn, RoleSessionName=session_name, DurationSeconds=43_200
    )["Credentials"]
    return replace(
        admin,
        access_key_id=credentials["AccessKeyId"],
        secret_access_key=credentials["SecretAccessKey"],
        session_token=credentials["SessionToken"],
    )


def _reset_auth(endpoint: AwsEndpoint, allowance: str) -> str:
    """Set moto's no-auth allowance ("0": enforce now, "inf": never); the previous one."""
    answer = httpx.post(
        f"{endpoint.url}/moto-api/reset-auth",
        content=allowance.encode(),
        headers={"Content-Type": "text/plain"},
        timeout=10,
    )
    answer.raise_for_status()
    previous: str = answer.json()["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]
    return previous


def set_enforcement(endpoint: AwsEndpoint, enforced: bool) -> None:
    """moto enforces IAM once this many unauthenticated actions are used up: none, or never."""
    _reset_auth(endpoint, "0" if enforced else "inf")


@contextmanager
def enforcement_paused(endpoint: AwsEndpoint) -> Iterator[None]:
    """No enforcement for the block, then as before: every moto server of a process shares it."""
    previous = _reset_auth(endpoint, "inf")
    try:
        yield
    finally:
        _reset_auth(endpoint, previous)


def least_privilege(
    emulator: Emulator, admin: AwsEndpoint, stack: DeployedStack, enforce: bool
) -> Identities:
    """Each component's identity, and moto enforcing IAM from now on when ``enforce``.

    Only moto's server has the API this needs (EmulatorKind.moto_api); on any other emulator
    every component keeps the admin's credentials: its IAM is its own business.
    """
    if not available(emulator):
        return Identities(admin, dict.fromkeys([*COMPONENTS, WORKER], admin), enforced=False)
    # Setting up is the services' part (Lambda and ECS assume these roles, which trust only
    # them), so it runs unenforced, also for a second stack on an enforcing emulator.
    set_enforcement(admin, False)
    arns = role_arns(admin, stack)
    attach_managed_policies(admin, stack)
    adapt_role_policies(admin, {arn.rsplit("/", 1)[-1] for arn in arns.values()})
    components = {component: assume(admin, arn, component) for component, arn in arns.items()}
    set_enforcement(admin, enforce)
    return Identities(admin, components, enforced=enforce)
