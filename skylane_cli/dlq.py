"""``skylane dlq list [QUEUE]`` / ``redrive QUEUE [--job-id ID ...]``: the dead-letter queues.

QUEUE is any queue of the stack with a dead-letter queue (paired by skylane/queues/pairs.py);
``list`` also shows one without a queue of its own (schedule), which cannot be redriven. With
no local stack and no ``--stack``, the queues the environment's ``*_DLQ_URL`` name.
"""

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from skylane.queues.dead_letters import DeadLetter, list_dead_letters, redrive
from skylane.queues.pairs import dead_letter_pairs, from_settings, from_stack_outputs
from skylane_cli.common import CommandError, add_target_arguments, target_from


@dataclass(frozen=True)
class DeadLetterQueue:
    name: str
    # Where a redrive sends its messages; None for a DLQ that has no queue of its own.
    queue_url: str | None
    dlq_url: str


def add_dlq_parser(commands: Any) -> None:
    """Adds ``dlq`` to the ``skylane`` command's subparsers."""
    dlq = commands.add_parser("dlq", help="list or redrive the dead-letter queues")
    actions = dlq.add_subparsers(dest="dlq_action", required=True)
    listing = actions.add_parser("list", help="what is in a dead-letter queue, left in place")
    listing.add_argument(
        "queue",
        nargs="?",
        help="a queue with a dead-letter queue: high, default, light ... (default: every one)",
    )
    back = actions.add_parser("redrive", help="send dead letters back to their queue")
    back.add_argument("queue", help="high, default, light ...")
    back.add_argument("--job-id", action="append", default=None, help="only this job (repeatable)")
    for action in (listing, back):
        add_target_arguments(action)


def _from_environment() -> list[DeadLetterQueue]:
    pairs = dead_letter_pairs(from_settings())
    return [DeadLetterQueue(name, url, dlq) for name, (url, dlq) in pairs.items()]


def dead_letter_queues(args: argparse.Namespace) -> tuple[Any, list[DeadLetterQueue]]:
    """An SQS client for the chosen stack, and every dead-letter queue it has."""
    from infra.stack_state import StackNotRunning

    try:
        target = target_from(args)
    except StackNotRunning:
        # No stack was asked for and none runs here: a deployed container's environment
        # names its own queues.
        if args.stack is not None or args.state is not None or not _from_environment():
            raise
        import boto3

        from skylane.core.settings import get_settings

        sqs = boto3.client("sqs", region_name=get_settings().aws_region)
        return sqs, _from_environment()
    found = [
        DeadLetterQueue(queue.name, queue.url, queue.dead_letter_url)
        for queue in from_stack_outputs(target.outputs)
        if queue.dead_letter_url
    ]
    if not found:
        raise CommandError(f"the stack {target.name} has no *DeadLetterQueueUrl outputs")
    return target.client("sqs"), found


def chosen(queues: Sequence[DeadLetterQueue], name: str) -> DeadLetterQueue:
    for queue in queues:
        if queue.name == name:
            return queue
    known = ", ".join(queue.name for queue in queues)
    raise CommandError(f"no dead-letter queue {name!r} (known: {known})")


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
    from botocore.exceptions import BotoCoreError, ClientError

    sqs, queues = dead_letter_queues(args)
    try:
        if args.dlq_action == "list":
            lines: list[str] = []
            for queue in [chosen(queues, args.queue)] if args.queue else queues:
                lines += format_letters(queue.name, list_dead_letters(sqs, queue.dlq_url))
            return lines
        queue = chosen(queues, args.queue)
        if queue.queue_url is None:
            raise CommandError(
                f"{queue.name}: its dead letters have no queue to go back to; "
                "read them with `skylane dlq list` and act on them by hand"
            )
        wanted = set(args.job_id or ())
        moved = redrive(
            sqs,
            queue.dlq_url,
            queue.queue_url,
            wanted=lambda letter: not wanted or letter.job_id in wanted,
        )
    except (BotoCoreError, ClientError) as error:
        raise CommandError(f"SQS could not be read: {error}") from error
    return [f"{queue.name}: {len(moved)} message(s) sent back"] + [
        f"  job {letter.job_id or '-'}  task {letter.task or '-'}" for letter in moved
    ]
