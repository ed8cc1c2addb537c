"""What every ``skylane`` sub-command shares: its one-line failure and its choice of stack."""

import argparse
from pathlib import Path
from typing import Any

from skylane_cli.stack_api import StackApi
from skylane_cli.stack_target import StackTarget, resolve_target


class CommandError(RuntimeError):
    """A failure to report in one line, without a traceback."""


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """``--stack NAME --region R`` for a deployed stack; the local stack by default."""
    parser.add_argument(
        "--stack", default=None, help="a deployed stack's name (default: the local stack)"
    )
    parser.add_argument("--region", default=None, help="with --stack: its region")
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        help="the local stack's state file (default .local/stack.json, written by make up)",
    )


def target_from(args: Any) -> StackTarget:
    target: StackTarget = resolve_target(args.stack, args.region, args.state)
    return target


def stack_api_for(target: StackTarget, token: str | None) -> StackApi:
    """The client for the stack's API, authenticated as the stack asks: a bearer token (JWT),
    or SigV4 signatures with the caller's AWS credentials (IAM)."""
    sigv4_region = target.region if target.api_auth == "IAM" and not token else None
    return StackApi(api_url_of(target), token=token, sigv4_region=sigv4_region)


def api_url_of(target: StackTarget) -> str:
    if target.api_url is None:
        raise CommandError(f"the stack {target.name} has no API URL (no ApiUrl output)")
    return target.api_url
