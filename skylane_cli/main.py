"""The ``skylane`` command: a registry of sub-commands, each in a module of its own.

submit, watch, queues, logs, dlq, schedules and dashboard (README: *The skylane command*).
Every command talks to the local stack (``make up``) by default, and imports rich, httpx and
infra/ inside its functions, so ``skylane --help`` stays quick.
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from skylane_cli.common import CommandError
from skylane_cli.dashboard import add_dashboard_parser, run_dashboard
from skylane_cli.dlq import add_dlq_parser, run_dlq
from skylane_cli.logs import add_logs_parser, run_logs
from skylane_cli.queues import add_queues_parser, run_queues
from skylane_cli.schedules import add_schedules_parser, run_schedules
from skylane_cli.submit import add_submit_parser, run_submit
from skylane_cli.watch import add_watch_parser, run_watch


def _run_dlq(args: argparse.Namespace) -> int:
    print("\n".join(run_dlq(args)))
    return 0


# Each command: the name its parser adds, that adder, and its runner (answers the exit code).
COMMANDS: dict[str, tuple[Callable[[Any], None], Callable[[argparse.Namespace], int]]] = {
    "submit": (add_submit_parser, run_submit),
    "watch": (add_watch_parser, run_watch),
    "queues": (add_queues_parser, run_queues),
    "logs": (add_logs_parser, run_logs),
    "dlq": (add_dlq_parser, _run_dlq),
    "schedules": (add_schedules_parser, run_schedules),
    "dashboard": (add_dashboard_parser, run_dashboard),
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="skylane", description="skylane's commands.")
    commands = parser.add_subparsers(dest="command", required=True)
    for add_parser, _ in COMMANDS.values():
        add_parser(commands)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    _, run = COMMANDS[args.command]
    try:
        return run(args)
    except (CommandError, LookupError, ValueError) as error:
        print(f"skylane: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
