"""Run a Lambda function's handler in this process, the way Lambda would.

The local stand-ins for Lambda's triggers (the scheduler and light-lane runners) call the
template's Handler with a context carrying its MemorySize and Timeout, in the function's
environment, until SIGTERM or SIGINT, letting an invocation under way finish.
"""

import functools
import importlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from types import FrameType
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

# One invocation of the function: the event in, the handler's answer out.
Invoke = Callable[[Any], Any]
# Lambda's defaults when neither the function nor the template's Globals name them.
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_SECONDS = 3


class LocalLambdaContext(LambdaContext):
    """The context Lambda passes a handler, for an invocation run on this machine."""

    def __init__(
        self,
        function_name: str,
        region: str,
        memory_mb: int,
        timeout_seconds: int,
        account: str = "123456789012",
    ) -> None:
        self._function_name = function_name
        self._function_version = "$LATEST"
        self._invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self._memory_limit_in_mb = memory_mb
        self._aws_request_id = str(uuid.uuid4())
        self._log_group_name = f"/aws/lambda/{function_name}"
        self._log_stream_name = f"local/{self._aws_request_id}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@functools.cache
def emulator_account() -> str:
    """The account the emulator this process's environment names reports (STS), as Lambda's
    ARNs carry the account the function runs in."""
    account: str = boto3.client("sts").get_caller_identity()["Account"]
    return account


def function_invoker(
    template: Mapping[str, Any],
    function: str,
    physical_name: str,
    region: str,
    account: str | None = None,
) -> Invoke:
    """Call ``function``'s handler (its Handler property) in this process, as Lambda would.

    ``account`` is the emulator's (emulator_account) unless given.
    """
    resource = template["Resources"][function]
    properties = resource.get("Properties", {})
    function_globals = template.get("Globals", {}).get("Function", {})
    module_name, _, attribute = properties["Handler"].rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    memory = int(
        properties.get("MemorySize", function_globals.get("MemorySize", DEFAULT_MEMORY_MB))
    )
    timeout = int(
        properties.get("Timeout", function_globals.get("Timeout", DEFAULT_TIMEOUT_SECONDS))
    )

    def invoke(payload: Any) -> Any:
        context = LocalLambdaContext(
            physical_name, region, memory, timeout, account or emulator_account()
        )
        return handler(payload, context)

    return invoke


def physical_name(stack_name: str, function: str) -> str:
    """The function's name in the local stack (what its context and ARN carry)."""
    return f"{stack_name}-{function}"


def lambda_region() -> str:
    """The region Lambda would run the function in: the one its environment names."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def run_until_stopped(ready_line: str, loop: Callable[[threading.Event], object]) -> int:
    """Say ``ready_line`` on stdout, then run ``loop`` until SIGTERM or SIGINT; returns 0.

    A signal only sets the stop event that ``loop`` is given: the invocation under way
    finishes, and ``loop`` returns once it sees the event. The parent (infra/processes.py)
    waits for the ready line, so it is printed once the handlers are in place.
    """
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    print(ready_line, flush=True)
    loop(stop)
    return 0
