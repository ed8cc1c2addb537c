"""``skylane logs [JOB_ID] [--follow]``: a job's log lines across the components, or all live.

Filters by ``--level``, ``--component`` and ``--since``; reads CloudWatch Logs through
skylane/observability/log_search.py: locally the emulator's, where make up ships every
process's lines, deployed the stack's log groups.
"""

import argparse
import signal
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skylane.observability.log_search import (
    COMPONENTS,
    LEVELS,
    LogLine,
    follow,
    log_groups,
    parse_since,
    search,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

# The keys worth a glance on every line; job_id only when the lines are not all one job's.
SHOWN_KEYS = ("task", "attempt", "request_id", "exception_name")
LEVEL_STYLES = {
    "DEBUG": "dim",
    "INFO": "green",
    "WARNING": "yellow",
    "ERROR": "bold red",
    "CRITICAL": "bold white on red",
}
COMPONENT_WIDTH = 9
DEFAULT_RECENT = timedelta(minutes=10)


def add_logs_parser(commands: Any) -> None:
    """Adds ``logs`` to the ``skylane`` command's subparsers."""
    logs = commands.add_parser(
        "logs", help="a job's log lines across API, scheduler and worker, or --follow all"
    )
    logs.add_argument("job_id", nargs="?", default=None, help="the job's id (omit for all lines)")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
    logs.add_argument(
        "--level",
        type=str.upper,
        choices=LEVELS,
        default=None,
        help="only lines of this level and above",
    )
    logs.add_argument(
        "--component",
        action="append",
        choices=[c.name for c in COMPONENTS],
        default=None,
        help="only this component's lines (repeatable)",
    )
    logs.add_argument(
        "--since", default=None, help="from this time on: 30s, 10m, 2h, 7d or ISO 8601"
    )
    logs.add_argument("--stack", default=None, help="a deployed stack's name (default: local)")
    logs.add_argument("--region", default=None, help="with --stack: its region")
    logs.add_argument(
        "--state", type=Path, default=None, help="the local stack's state file (.local/stack.json)"
    )


CONTINUATION_INDENT = "    "


def render(line: LogLine, show_job: bool) -> "Text":
    """One line as rich Text: time (UTC), component, level, message, then its telling keys."""
    from rich.text import Text

    text = Text()
    text.append(f"{line.timestamp:%Y-%m-%d %H:%M:%S}.{line.timestamp.microsecond // 1000:03d}")
    text.append(f"  {line.component:<{COMPONENT_WIDTH}}", style="cyan")
    level = line.level or "-"
    text.append(f"{level:<8}", style=LEVEL_STYLES.get(level, ""))
    # A multi-line message (a traceback, Celery's explanations) keeps its lines, indented, so
    # every line that starts at the margin is the start of one log event.
    text.append(line.message.rstrip("\n").replace("\n", "\n" + CONTINUATION_INDENT))
    keys = ("job_id", *SHOWN_KEYS) if show_job else SHOWN_KEYS
    for key in keys:
        if line.keys.get(key) is not None:
            text.append(f"  {key}=", style="dim")
            text.append(str(line.keys[key]))
    return text


def print_lines(console: "Console", lines: Iterable[LogLine], show_job: bool) -> int:
    count = 0
    for line in lines:
        # soft_wrap: a long line stays one line (a pipe, grep), the terminal wraps it.
        console.print(render(line, show_job), soft_wrap=True, highlight=False)
        console.file.flush()
        count += 1
    return count


def run_logs(args: argparse.Namespace) -> int:
    """Prints the lines of a parsed ``skylane logs ...``; the exit code."""
    from rich.console import Console

    from skylane_cli.stack_target import resolve_target

    target = resolve_target(args.stack, args.region, args.state)
    groups = log_groups(target.outputs)
    if not groups:
        raise LookupError(f"the stack {target.name} has no log group outputs")
    logs = target.client("logs")
    since = parse_since(args.since) if args.since else None
    console = Console()
    show_job = args.job_id is None
    options: dict[str, Any] = {"level": args.level, "components": args.component}
    if args.follow:
        # A script that starts us in the background (`&`) sets SIGINT to ignored; the way to end
        # a follow is still SIGINT (Ctrl-C).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            print_lines(
                console, follow(logs, groups, args.job_id, since=since, **options), show_job
            )
        except KeyboardInterrupt:
            return 0
        return 0
    if since is None and args.job_id is None:
        since = parse_since(f"{int(DEFAULT_RECENT.total_seconds())}s")
    found = search(logs, groups, args.job_id, since=since, **options)
    if not found:
        what = f"job {args.job_id}" if args.job_id else "the stack"
        Console(stderr=True).print(
            f"no log lines of {what} in {', '.join(groups.values())}",
            style="yellow",
            soft_wrap=True,
        )
        return 1
    print_lines(console, found, show_job)
    return 0
