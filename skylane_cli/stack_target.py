"""Which stack a ``skylane`` command talks to: the local one (``make up``) or a deployed one.

By default the local stack that ``.local/stack.json`` describes; with ``--stack NAME`` the
deployed CloudFormation stack, found with the caller's AWS credentials. Both give the same
view: the stack's outputs, its API URL and boto3 clients aimed at it.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StackTarget:
    name: str
    region: str
    # The template's Outputs (queue URLs, table and log group names, ...).
    outputs: dict[str, str]
    # The API's base URL, without a trailing slash; None when the stack runs no API.
    api_url: str | None
    # AWS_ENDPOINT_URL, credentials and region of the emulator; empty for a deployed stack
    # (boto3 then finds the caller's credentials itself).
    endpoint_env: dict[str, str] = field(default_factory=dict)
    local: bool = False
    # The template's ApiAuth parameter: NONE, JWT or IAM (IAM: requests are SigV4-signed).
    api_auth: str = "NONE"

    def output(self, name: str) -> str:
        try:
            return self.outputs[name]
        except KeyError:
            raise LookupError(f"the stack {self.name} has no output {name!r}") from None

    def client(self, service: str) -> Any:
        """A boto3 client for this stack, whatever this process's AWS_* variables say."""
        import boto3

        if not self.local:
            return boto3.Session(region_name=self.region).client(service)  # type: ignore[call-overload]
        env = self.endpoint_env
        return boto3.Session(
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
            region_name=self.region,
        ).client(service, endpoint_url=env["AWS_ENDPOINT_URL"])  # type: ignore[call-overload]


def local_target(state_path: Path | None = None) -> StackTarget:
    """The running local stack; raises LookupError (StackNotRunning) when there is none."""
    from infra.stack_state import STATE_PATH, StackState

    state = StackState.read(state_path or STATE_PATH)
    state.check_reachable()
    return StackTarget(
        name=state.stack_name,
        region=state.region,
        outputs=dict(state.outputs),
        api_url=state.api_url.rstrip("/") if state.api_url else None,
        endpoint_env=dict(state.endpoint_env),
        local=True,
    )


def deployed_target(stack_name: str, region: str | None = None) -> StackTarget:
    """A deployed stack, by name, through the caller's AWS credentials."""
    import boto3

    session = boto3.Session(region_name=region)
    cloudformation = session.client("cloudformation")
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        raise LookupError(f"no deployed stack {stack_name!r}: {error}") from error
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stacks[0].get("Outputs", [])}
    parameters = {
        item["ParameterKey"]: item.get("ParameterValue", "")
        for item in stacks[0].get("Parameters", [])
    }
    api_url = outputs.get("ApiUrl")
    return StackTarget(
        name=stack_name,
        region=session.region_name or "us-east-1",
        outputs=outputs,
        api_url=api_url.rstrip("/") if api_url else None,
        api_auth=parameters.get("ApiAuth") or "NONE",
    )


def resolve_target(
    stack: str | None = None, region: str | None = None, state_path: Path | None = None
) -> StackTarget:
    """``--stack NAME`` picks a deployed stack; otherwise the local stack."""
    if stack is not None:
        return deployed_target(stack, region)
    return local_target(state_path)
