"""``make up``: the whole stack on this machine, until Ctrl-C.

The emulator, the stack from template.yaml, the API on uvicorn, a Celery worker, the schedule
runner and the light lane's poller, each with the environment the template gives its AWS
counterpart. ``.local/stack.json`` tells the ``skylane`` commands how to reach it.
"""

import argparse
import json
import logging
import signal
import sys
import time
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

from infra import local_iam, local_setup
from infra.docker_bridge import DOCKER_HOST_ALIAS, host_addresses_for_containers
from infra.emulator import AwsEndpoint, Emulator, configured_port, start_emulator
from infra.log_shipping import CloudWatchShipping, ship_to_cloudwatch
from infra.processes import (
    DEFAULT_API_PORT,
    DEFAULT_GRACE_SECONDS,
    LIGHT_FUNCTION,
    LIGHT_READY,
    SCHEDULER_FUNCTION,
    SCHEDULER_READY,
    ChildProcess,
    PrefixedStdout,
    child_environment,
    start_api,
    start_light,
    start_scheduler,
    start_worker,
    stop_all,
)
from infra.runtime_schedule_runner import service_env
from infra.stack_state import STATE_PATH, from_deployed
from infra.template import REPO_ROOT, DeployedStack

STACK_NAME = "skylane-local"
PARAMETERS = {"Stage": "local"}
SAM_ENV_VARS_PATH = REPO_ROOT / ".local" / "sam-env-vars.json"
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.up", description=__doc__)
    parser.add_argument(
        "--api-port",
        "--port",
        dest="api_port",
        type=int,
        default=DEFAULT_API_PORT,
        help=f"port of the API on 127.0.0.1 (default {DEFAULT_API_PORT})",
    )
    parser.add_argument(
        "--emulator-port",
        type=int,
        default=None,
        help="port of the emulator started for the stack, moto's or MiniStack's "
        "(default $SKYLANE_EMULATOR_PORT or 4599)",
    )
    parser.add_argument("--no-worker", action="store_true", help="start no Celery worker")
    parser.add_argument(
        "--no-iam",
        action="store_true",
        help=f"do not enforce IAM on the embedded emulator (also {local_iam.ENFORCE_VARIABLE}=0)",
    )
    parser.add_argument(
        "--no-scheduler",
        action="store_true",
        help="fire no schedules (skylane schedules fire still works)",
    )
    return parser.parse_args(argv)


def docker_reachable_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK_NAMES:
        return url
    netloc = DOCKER_HOST_ALIAS if parts.port is None else f"{DOCKER_HOST_ALIAS}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def write_sam_env_vars(
    stack: DeployedStack, endpoint: AwsEndpoint, path: Path = SAM_ENV_VARS_PATH
) -> Path:
    """The env-vars file for `sam local start-api` and `sam local invoke` (--env-vars): each
    function's environment from the stack, its endpoint the emulator as containers reach it.

    SAM CLI applies only the variables the template declares for a function; the credentials
    and region come from SAM CLI's own environment (infra/sam_local.py sets the emulator's).
    """
    container_url = docker_reachable_url(endpoint.url)
    functions = {
        function: {**variables, "AWS_ENDPOINT_URL": container_url}
        for function, variables in sorted(stack.function_envs.items())
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(functions, indent=2) + "\n")
    return path


def containers_row(emulator: Emulator, bridge: Sequence[str]) -> str:
    """How `make start-api`'s containers reach the emulator, for the summary."""
    url = docker_reachable_url(emulator.endpoint.url)
    if bridge:
        return f"{url} (the emulator listens on {', '.join(bridge)} too, Docker's bridge)"
    if emulator.process is not None:
        return f"none: {emulator.kind.name} listens on loopback only (make start-api needs moto)"
    if emulator.embedded:
        # No engine on Linux seen: Docker Desktop forwards the alias to loopback, and on Linux
        # Docker must run before `make up` for the emulator to listen on its bridge.
        return f"{url} (loopback only: Docker Desktop, or start Docker, then make up again)"
    return url


def schedules_row(emulator: Emulator, scheduler: bool) -> str:
    """Who fires the template's schedules: exactly one source (infra/emulators.py)."""
    if emulator.kind.schedule_firing == "emulator":
        return f"fired by {emulator.kind.name}'s own Scheduler"
    if not scheduler:
        return "not fired (--no-scheduler)"
    if emulator.kind.own_scheduler_fires:
        return f"fired locally ({emulator.kind.name}'s own Scheduler has them disabled)"
    return "fired locally"


def summary(
    emulator: Emulator,
    stack: DeployedStack,
    api_port: int,
    env_vars_path: Path,
    worker: bool,
    scheduler: bool,
    bridge: Sequence[str] = (),
    iam_enforced: bool = False,
) -> str:
    outputs = stack.outputs
    api_url = f"http://127.0.0.1:{api_port}"
    if emulator.embedded:
        emulator_kind = "moto, embedded"
    elif emulator.process is not None:
        emulator_kind = f"{emulator.kind.name}, started for this stack"
    else:
        emulator_kind = f"{emulator.kind.name}, yours"
    rows = [
        ("API", api_url),
        ("API docs", f"{api_url}/docs"),
        ("dashboard", f"{api_url}/dashboard"),
        ("AWS endpoint", f"{emulator.endpoint.url} ({emulator_kind})"),
        ("for containers", containers_row(emulator, bridge)),
        ("stack", stack.stack_name),
        ("jobs table", outputs["JobsTableName"]),
        ("uploads bucket", outputs["UploadsBucketName"]),
        ("reports bucket", outputs["ReportsBucketName"]),
        ("high queue", outputs["HighQueueUrl"]),
        ("default queue", outputs["DefaultQueueUrl"]),
        ("high DLQ", outputs["HighDeadLetterQueueUrl"]),
        ("default DLQ", outputs["DefaultDeadLetterQueueUrl"]),
        ("light queue", outputs["LightQueueUrl"]),
        ("light DLQ", outputs["LightDeadLetterQueueUrl"]),
        ("API log group", outputs["ApiLogGroupName"]),
        ("worker log group", outputs["WorkerLogGroupName"]),
        ("scheduler log group", outputs["SchedulerLogGroupName"]),
        ("light log group", outputs["LightLogGroupName"]),
        ("light lane", "LightFunction's handler, polled locally"),
        ("logs", "uv run skylane logs JOB_ID (or --follow)"),
        ("worker", "1 process" if worker else "none (--no-worker)"),
        ("schedules", schedules_row(emulator, scheduler)),
        (
            "IAM",
            "enforced: each component calls as its template role"
            if iam_enforced
            else "not enforced",
        ),
        ("sam env vars", str(env_vars_path)),
        ("stack state", f"{STATE_PATH} (skylane schedules fire NAME)"),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"  {label:<{width}}  {value}" for label, value in rows]
    aws_env = " ".join(f"{name}={value}" for name, value in emulator.endpoint.env().items())
    return "\n".join(
        [
            "skylane is up. Ctrl-C stops everything.",
            *lines,
            f"  use the AWS CLI against it: env {aws_env} aws ...",
        ]
    )


def quiet_emulator_logs() -> None:
    """Keep the children's lines readable on our stdout.

    moto logs every request and warns about each resource type it does not emulate; those
    (the HTTP API, bucket policies) have no local role, since uvicorn serves the API.
    """
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("moto").addFilter(
        lambda record: not record.getMessage().startswith("No Moto CloudFormation support")
    )
    warnings.filterwarnings("ignore", message="Tried to parse .* but it's not supported")


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(128 + signum)


def wait_while_running(processes: Sequence[ChildProcess]) -> int:
    """Block until a child exits on its own (its exit code) or we are told to stop."""
    while True:
        for process in processes:
            code = process.returncode
            if code is not None:
                print(
                    process.describe_failure("stopped on its own; stopping the stack"),
                    file=sys.stderr,
                )
                return code or 1
        time.sleep(0.5)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_emulator_logs()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # A shell that starts us in the background sets SIGINT to ignored; Ctrl-C must still stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    port = configured_port() if args.emulator_port is None else args.emulator_port
    # Loopback, and Docker's bridge when an engine runs on Linux: `make start-api`'s containers
    # reach the emulator there (infra/docker_bridge.py).
    bridge = host_addresses_for_containers()
    emulator = start_emulator(port, also_on=bridge)
    if not emulator.embedded:
        bridge = []
    processes: list[ChildProcess] = []
    shipping: CloudWatchShipping | None = None
    state_written = False
    try:
        # The stack and your own commands as an admin; each component as its template role.
        if local_iam.available(emulator):
            emulator.endpoint = local_iam.create_admin(emulator.endpoint)
        endpoint = emulator.endpoint
        stack = local_setup.deploy_local(endpoint, PARAMETERS, STACK_NAME)
        identities = local_iam.least_privilege(
            emulator, endpoint, stack, enforce=not args.no_iam and local_iam.enforcement_wanted()
        )
        env_vars_path = write_sam_env_vars(stack, identities.endpoint("api"))
        # Every child's lines on our stdout and in the emulator's CloudWatch Logs.
        output = shipping = ship_to_cloudwatch(PrefixedStdout(), endpoint, stack.outputs)
        # Rate schedules count from here, in the runner and in `skylane schedules` alike.
        started_at = datetime.now(UTC)
        scheduler = None
        if not args.no_scheduler and emulator.kind.schedule_firing == "schedule runner":
            # Started first: it imports the function's code while the API boots.
            # It reads the runtime schedules as EventBridge would, not as the function.
            scheduler_env = child_environment(
                identities.env(SCHEDULER_FUNCTION),
                stack.component_env(SCHEDULER_FUNCTION),
                service_env(identities.admin),
            )
            scheduler = start_scheduler(scheduler_env, output, stack.stack_name, started_at)
            processes.append(scheduler)
        # The light lane: LightFunction's SQS event source, played locally.
        light_env = child_environment(
            identities.env(LIGHT_FUNCTION), stack.component_env(LIGHT_FUNCTION)
        )
        light = start_light(light_env, output, stack.stack_name)
        processes.append(light)
        processes.append(
            start_api(
                child_environment(identities.env("api"), stack.api_env), output, port=args.api_port
            )
        )
        if not args.no_worker:
            processes.append(
                start_worker(
                    child_environment(identities.env(local_iam.WORKER), stack.worker_env), output
                )
            )
        if scheduler is not None:
            scheduler.wait_for_output(SCHEDULER_READY, timeout=60)
        light.wait_for_output(LIGHT_READY, timeout=60)
        api_url = f"http://127.0.0.1:{args.api_port}"
        state = from_deployed(stack, endpoint, started_at, api_url, identities.credentials_env())
        state.write(STATE_PATH)
        state_written = True
        print(
            summary(
                emulator,
                stack,
                args.api_port,
                env_vars_path,
                worker=not args.no_worker,
                scheduler=scheduler is not None,
                bridge=bridge,
                iam_enforced=identities.enforced,
            )
        )
        return wait_while_running(processes)
    except KeyboardInterrupt:
        return 0
    finally:
        if state_written:
            # Commands must not aim at a stack that is gone.
            STATE_PATH.unlink(missing_ok=True)
        # A second Ctrl-C (a terminal signals `uv run` and us alike, and uv passes it on) must
        # not cut the shutdown short: it is bounded by the grace period anyway.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("stopping...", file=sys.stderr)
        stop_all(processes, DEFAULT_GRACE_SECONDS)
        if shipping is not None:
            shipping.close()
        emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
