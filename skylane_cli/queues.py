"""``skylane queues``: each queue's depth, in flight, delayed and dead-letter counts.

The queues are whatever the stack's outputs name (skylane/queues/pairs.py), so a queue added to
the template shows up with no change; a dead-letter queue of no queue (schedule) is a row with
only that count.
"""

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from typing import Any

from skylane.queues.pairs import QueueUrls, from_stack_outputs
from skylane_cli.common import CommandError, add_target_arguments, target_from

_ATTRIBUTES = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


@dataclass(frozen=True)
class QueueCounts:
    name: str
    # None where the row has no such queue.
    visible: int | None
    in_flight: int | None
    delayed: int | None
    dead_letters: int | None


def count(sqs: Any, queues: list[QueueUrls]) -> list[QueueCounts]:
    def attributes(url: str) -> dict[str, int]:
        answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=_ATTRIBUTES)
        return {name: int(value) for name, value in answer["Attributes"].items()}

    rows = []
    for queue in queues:
        main = attributes(queue.url) if queue.url else None
        dead = attributes(queue.dead_letter_url) if queue.dead_letter_url else None
        rows.append(
            QueueCounts(
                name=queue.name,
                visible=main["ApproximateNumberOfMessages"] if main else None,
                in_flight=main["ApproximateNumberOfMessagesNotVisible"] if main else None,
                delayed=main["ApproximateNumberOfMessagesDelayed"] if main else None,
                # Every message parked there, whether or not someone is looking at it.
                dead_letters=(
                    dead["ApproximateNumberOfMessages"]
                    + dead["ApproximateNumberOfMessagesNotVisible"]
                    if dead
                    else None
                ),
            )
        )
    return rows


def add_queues_parser(commands: Any) -> None:
    queues = commands.add_parser(
        "queues", help="queue depths, in flight, delayed and dead-letter counts"
    )
    queues.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    add_target_arguments(queues)


def print_table(stack_name: str, rows: list[QueueCounts]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"queues of {stack_name}")
    table.add_column("queue")
    for column in ("visible", "in flight", "delayed", "dead letters"):
        table.add_column(column, justify="right")

    def cell(value: int | None, alarm: bool = False) -> str:
        if value is None:
            return "-"
        return f"[bold red]{value}[/]" if alarm and value else str(value)

    for row in rows:
        table.add_row(
            row.name,
            cell(row.visible),
            cell(row.in_flight),
            cell(row.delayed),
            cell(row.dead_letters, alarm=True),
        )
    Console().print(table)


def run_queues(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    target = target_from(args)
    queues = from_stack_outputs(target.outputs)
    if not queues:
        raise CommandError(f"the stack {target.name} has no *QueueUrl outputs")
    try:
        rows = count(target.client("sqs"), queues)
    except (BotoCoreError, ClientError) as error:
        raise CommandError(f"SQS could not be read: {error}") from error
    if args.json:
        data = {row.name: {k: v for k, v in asdict(row).items() if k != "name"} for row in rows}
        json.dump(data, sys.stdout, indent=2)
        print()
    else:
        print_table(target.name, rows)
    return 0
