"""``skylane schedules [fire NAME [--stack S]]``: the template's EventBridge schedules.

Each schedule with its time zone and next 3 firings, or one fired now: on the local stack, or
through the deployed stack's function. infra/ is imported inside the commands only.
"""

import argparse
import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from skylane_cli.common import CommandError
from skylane_cli.schedule_commands import (
    ACTIONS,
    add_schedule_actions,
    fire_through_api,
    json_object,
    run_schedule_action,
)


def add_schedules_parser(commands: Any) -> None:
    schedules = commands.add_parser(
        "schedules", help="the EventBridge schedules of template.yaml (list, fire)"
    )
    state_help = "the local stack's state file (default .local/stack.json, written by make up)"
    schedules.add_argument("--state", type=Path, default=None, help=state_help)
    schedules.add_argument("--count", type=int, default=3, help="firings to show (default 3)")
    actions = schedules.add_subparsers(dest="action")
    fire = actions.add_parser("fire", help="fire one schedule now, as EventBridge would")
    fire.add_argument("name", help="the schedule's name (its event id in template.yaml)")
    fire.add_argument(
        "--kwargs", type=json_object, default=None, help="the task's kwargs, a JSON object"
    )
    fire.add_argument(
        "--stack", default=None, help="fire through this deployed stack's function instead"
    )
    fire.add_argument("--region", default=None, help="with --stack: its region")
    # Accepted after the name too; SUPPRESS keeps a --state given before "fire".
    fire.add_argument("--state", type=Path, default=argparse.SUPPRESS, help=state_help)
    add_schedule_actions(actions)


def describe_answer(name: str, answer: Mapping[str, Any]) -> str:
    kind = "duplicate delivery, already accepted" if answer.get("duplicate") else "enqueued"
    return f"{name} fired: job {answer['job_id']} ({answer.get('task')}) {kind}"


def list_schedules(state_path: Path | None, count: int) -> None:
    from infra.schedules import print_table, read_schedules, schedules_table
    from infra.stack_state import STATE_PATH, StackNotRunning, StackState

    now = datetime.now(UTC)
    try:
        # Rate schedules count from the running stack's start, as its scheduler does.
        start = StackState.read(state_path or STATE_PATH).start
    except StackNotRunning:
        start = now
    print_table(schedules_table(read_schedules(), start, now, count))


def fire_locally(name: str, kwargs: Mapping[str, Any] | None, state_path: Path | None) -> str:
    """Run the function's handler in a child with the function's environment, as Lambda would."""
    from infra.processes import REPO_ROOT, child_environment
    from infra.schedules import find_schedule, read_schedules
    from infra.stack_state import STATE_PATH, StackState

    schedule = find_schedule(read_schedules(), name)
    state = StackState.read(state_path or STATE_PATH)
    state.check_reachable()
    argv = [
        sys.executable,
        "-m",
        "infra.scheduler_runner",
        "--stack-name",
        state.stack_name,
        "--function",
        schedule.function,
        "--fire",
        name,
    ]
    if kwargs is not None:
        argv += ["--kwargs", json.dumps(kwargs)]
    env = child_environment(state.endpoint_env, state.component_env(schedule.function))
    done = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CommandError(
            f"the {schedule.function} invocation failed (exit {done.returncode}):\n"
            f"{done.stderr.rstrip()}"
        )
    return describe_answer(name, json.loads(done.stdout.strip().splitlines()[-1]))


def fire_deployed(
    name: str, kwargs: Mapping[str, Any] | None, stack_name: str, region: str | None
) -> str:
    """Invoke the deployed function with the payload Scheduler would send (not run in tests)."""
    import boto3

    from infra.schedules import Firing, find_schedule, read_schedules, render_payload, with_kwargs

    session = boto3.Session(region_name=region)
    cloudformation = session.client("cloudformation")

    def physical_id(logical_id: str) -> str:
        detail = cloudformation.describe_stack_resource(
            StackName=stack_name, LogicalResourceId=logical_id
        )["StackResourceDetail"]
        return str(detail["PhysicalResourceId"])

    schedule = find_schedule(read_schedules(), name)
    # SAM names a ScheduleV2 event's AWS::Scheduler::Schedule <function><event>.
    deployed = replace(schedule, explicit_name=physical_id(f"{schedule.function}{name}"))
    account = session.client("sts").get_caller_identity()["Account"]
    firing = Firing(schedule=deployed, scheduled_time=datetime.now(UTC))
    payload = render_payload(firing, stack_name, session.region_name, account)
    if kwargs is not None:
        payload = with_kwargs(payload, kwargs)
    answer = session.client("lambda").invoke(
        FunctionName=physical_id(schedule.function), Payload=json.dumps(payload).encode()
    )
    body = json.loads(answer["Payload"].read())
    if "FunctionError" in answer:
        raise CommandError(f"the {schedule.function} invocation failed: {json.dumps(body)}")
    return describe_answer(name, body)


def _declared(name: str) -> bool:
    from infra.schedules import read_schedules

    return any(schedule.name == name for schedule in read_schedules())


def run_schedules(args: argparse.Namespace) -> int:
    if args.action is None:
        list_schedules(args.state, args.count)
    elif args.action in ACTIONS:
        print(run_schedule_action(args))
    elif not _declared(args.name):
        # Not in template.yaml: a runtime schedule, fired through the API.
        args.region = getattr(args, "region", None)
        try:
            print(fire_through_api(args))
        except (CommandError, LookupError, ValueError) as error:
            raise CommandError(
                f"no schedule {args.name!r} in the template, and as a runtime schedule: {error}"
            ) from error
    elif args.stack is not None:
        print(fire_deployed(args.name, args.kwargs, args.stack, args.region))
    else:
        print(fire_locally(args.name, args.kwargs, args.state))
    return 0
