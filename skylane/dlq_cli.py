"""``skylane dlq``: what sits in a dead-letter queue, and sending it back after a fix.

``skylane dlq list [high|default]``                     each message: job id, task, receives, reason
``skylane dlq redrive high|default [--job-id ID ...]``  back to its queue (all, or those jobs)

The queues are the running local stack's (.local/stack.json, written by make up) or, with no
local stack, the ones HIGH_DLQ_URL / DEFAULT_DLQ_URL ... name in the environment (a deployed
stack's outputs). Wired into skylane/cli.py as the ``dlq`` command.
"""

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skylane.dead_letters import DeadLetter, list_dead_letters, redrive

QUEUES = ("high", "default")
# The template's output names of each queue and its dead-letter queue.
_OUTPUTS = {
    "high": ("HighQueueUrl", "HighDeadLetterQueueUrl"),
    "default": ("DefaultQueueUrl", "DefaultDeadLetterQueueUrl"),
}


def add_dlq_parser(commands: Any) -> None:
    """Adds ``dlq`` to the ``skylane`` command's subparsers."""
    dlq = commands.add_parser("dlq", help="list or redrive the dead-letter queues")
    actions = dlq.add_subparsers(dest="dlq_action", required=True)
    listing = actions.add_parser("list", help="what is in a dead-letter queue, left in place")
    listing.add_argument("queue", nargs="?", choices=QUEUES, help="high or default (default both)")
    back = actions.add_parser("redrive", help="send dead letters back to their queue")
    back.add_argument("queue", choices=QUEUES)
    back.add_argument("--job-id", action="append", default=None, help="only this job (repeatable)")
    for action in (listing, back):
        action.add_argument("--state", type=Path, default=None, help="the local stack's state file")


def _queue_urls(queue: str, state_path: Path | None) -> tuple[Any, str, str]:
    """An SQS client for the stack, and the queue's and its DLQ's URLs."""
    # Here, not at the top: every ``skylane`` command imports this module, most never need boto3.
    import boto3

    from infra.stack_state import STATE_PATH, StackNotRunning, StackState

    try:
        state = StackState.read(state_path or STATE_PATH)
    except StackNotRunning:
        if state_path is not None:
            raise
        from skylane.settings import get_settings

        settings = get_settings()
        urls = {
            "high": (settings.high_queue_url, settings.high_dlq_url),
            "default": (settings.default_queue_url, settings.default_dlq_url),
        }[queue]
        return boto3.client("sqs", region_name=settings.aws_region), *urls
    env = state.endpoint_env
    sqs = boto3.client(
        "sqs",
        endpoint_url=state.endpoint_url,
        region_name=state.region,
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
    )
    queue_output, dlq_output = _OUTPUTS[queue]
    return sqs, state.outputs[queue_output], state.outputs[dlq_output]


def format_letters(queue: str, letters: Sequence[DeadLetter]) -> list[str]:
    lines = [f"{queue}: {len(letters)} dead letter(s)"]
    lines += [
        f"  job {letter.job_id or '-'}  task {letter.task or '-'}  "
        f"receives {letter.receive_count}  {letter.reason}"
        for letter in letters
    ]
    return lines


def run_dlq(args: argparse.Namespace) -> list[str]:
    """The lines to print for a parsed ``skylane dlq ...``."""
    if args.dlq_action == "list":
        lines: list[str] = []
        for queue in [args.queue] if args.queue else list(QUEUES):
            sqs, _, dlq_url = _queue_urls(queue, args.state)
            lines += format_letters(queue, list_dead_letters(sqs, dlq_url))
        return lines
    sqs, queue_url, dlq_url = _queue_urls(args.queue, args.state)
    wanted = set(args.job_id or ())
    moved = redrive(
        sqs, dlq_url, queue_url, wanted=lambda letter: not wanted or letter.job_id in wanted
    )
    return [f"{args.queue}: {len(moved)} message(s) sent back"] + [
        f"  job {letter.job_id or '-'}  task {letter.task or '-'}" for letter in moved
    ]
