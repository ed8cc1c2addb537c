"""``skylane schedules show|create|pause|resume|delete``: the runtime schedules, through the API.

The same endpoints as the dashboard's panel (/schedules), so a deployed stack's IAM or JWT
auth applies as for ``skylane submit``. ``fire`` of a name the template does not declare goes
through ``POST /schedules/{name}/fire`` too (skylane/schedules_cli.py).
"""

import argparse
import json
from typing import Any
from urllib.parse import quote

from skylane_cli.common import CommandError, add_target_arguments, stack_api_for, target_from
from skylane_cli.stack_api import ApiError, StackApi

ACTIONS = ("show", "create", "pause", "resume", "delete")


def json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from error
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text}")
    return value


def add_schedule_actions(actions: Any) -> None:
    def action(name: str, help_text: str, needs_name: bool = True) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
        parser.add_argument("name", nargs=None if needs_name else "?", help="the schedule's name")
        parser.add_argument("--token", default=None, help="a bearer token (ApiAuth=JWT)")
        add_target_arguments(parser)
        # Accepted before the action too (skylane schedules --state PATH show).
        parser.set_defaults(state=argparse.SUPPRESS)
        return parser

    show = action("show", "every schedule, or one with its last runs (through the API)", False)
    show.add_argument("--json", action="store_true", help="the API's answer as JSON")
    create = action("create", "a runtime schedule: a task, its kwargs and an expression")
    create.add_argument("--task", required=True, help="a registered task (skylane.sync_data)")
    create.add_argument(
        "--expression", required=True, help="cron(...), rate(...) or at(...), as EventBridge"
    )
    create.add_argument("--kwargs", type=json_object, default=None, help="a JSON object")
    create.add_argument("--timezone", default=None, help="an IANA time zone (default UTC)")
    create.add_argument("--overlap", choices=("allow", "skip", "buffer_one"), default=None)
    create.add_argument("--paused", action="store_true", help="created paused")
    action("pause", "no runs until resumed")
    action("resume", "runs again from its next occurrence")
    action("delete", "the schedule goes; its runs' job records stay")


def _describe(schedule: dict[str, Any]) -> str:
    state = "paused" if schedule["state"] != "ENABLED" else "active"
    kind = " (template, read-only)" if schedule["read_only"] else ""
    next_run = schedule["next_runs"][0] if schedule["next_runs"] else "none"
    held = schedule.get("held")
    waiting = f", held {held['job_id']} behind {held['behind']}" if held else ""
    return (
        f"{schedule['name']}{kind}: {schedule['task']} {schedule['expression']} "
        f"{schedule['timezone']}, {state}, overlap {schedule['overlap']}, next {next_run}, "
        f"{schedule['run_count']} runs, last {schedule['last_run_at'] or 'never'}{waiting}"
    )


def _show(api: StackApi, name: str | None, as_json: bool) -> str:
    if name is None:
        listed = api.call("GET", "/schedules")
        if as_json:
            return json.dumps(listed, indent=2)
        return "\n".join(_describe(s) for s in listed["schedules"]) or "no schedules"
    shown = api.call("GET", f"/schedules/{quote(name, safe='')}")
    if as_json:
        return json.dumps(shown, indent=2)
    runs = [
        f"  {run['job_id']}  {run['state']:<9} {run['created_at']}  "
        f"{run['duration_seconds'] if run['duration_seconds'] is not None else '-'} s"
        for run in shown["runs"]
    ]
    return "\n".join([_describe(shown), *runs])


def run_schedule_action(args: argparse.Namespace) -> str:
    api = stack_api_for(target_from(args), args.token)
    path = f"/schedules/{quote(args.name or '', safe='')}"
    try:
        if args.action == "show":
            return _show(api, args.name, args.json)
        if args.action == "create":
            body: dict[str, Any] = {
                "name": args.name,
                "task": args.task,
                "expression": args.expression,
                "kwargs": args.kwargs or {},
            }
            optional = {"timezone": args.timezone, "overlap": args.overlap}
            body |= {key: value for key, value in optional.items() if value is not None}
            if args.paused:
                body["enabled"] = False
            return _describe(api.call("POST", "/schedules", body))
        if args.action == "delete":
            api.call("DELETE", path)
            return f"{args.name} deleted"
        return _describe(api.call("POST", f"{path}/{args.action}"))
    except ApiError as error:
        raise CommandError(str(error)) from error


def fire_through_api(args: argparse.Namespace) -> str:
    api = stack_api_for(target_from(args), None)
    try:
        fired = api.call("POST", f"/schedules/{quote(args.name, safe='')}/fire")
    except ApiError as error:
        raise CommandError(str(error)) from error
    if fired.get("held_for"):
        return (
            f"{args.name}: run {fired['job_id']} held (overlap buffer_one): it starts once "
            f"{fired['held_for']} is final"
        )
    if not fired["started"]:
        return f"{args.name}: run skipped (overlap): {fired['skipped_for']} is still going"
    return f"{args.name} fired: job {fired['job_id']} enqueued"
