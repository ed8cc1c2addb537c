"""``skylane watch JOB_ID``: follow a job to its end (GET /task/{id}), then show its result.

On a terminal: a live progress bar from PROGRESS current/total. Elsewhere (a pipe, CI, a test):
one plain line per change of state or progress. Exit code 0 on SUCCESS, 1 on FAILURE or
REVOKED, 2 when there is no such job, 3 when ``--timeout`` passed first.
"""

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol, TextIO

from skylane_cli.common import CommandError, add_target_arguments, stack_api_for, target_from
from skylane_cli.stack_api import ApiError, StackApi

EXIT_CODES = {"SUCCESS": 0, "FAILURE": 1, "REVOKED": 1}
UNKNOWN_JOB = 2
TIMED_OUT = 3

# GET /task/{id}: the job's Celery view, or None when the API knows no such job.
Poll = Callable[[], dict[str, Any] | None]


class Display(Protocol):
    def show(self, view: dict[str, Any]) -> None: ...

    def notice(self, text: str) -> None: ...

    def close(self) -> None: ...


def add_watch_parser(commands: Any) -> None:
    watch = commands.add_parser("watch", help="follow a job's progress to its result or error")
    watch.add_argument("job_id", help="the id that submit (or the API) answered")
    watch.add_argument(
        "--timeout", type=float, default=None, help="give up after this many seconds (exit 3)"
    )
    watch.add_argument(
        "--interval", type=float, default=0.5, help="seconds between polls (default 0.5)"
    )
    watch.add_argument(
        "--token", default=None, help="a bearer token, for a deployed stack with JWT auth"
    )
    add_target_arguments(watch)


def follow(
    poll: Poll,
    display: Display,
    timeout: float | None = None,
    interval: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Polls until a final state; answers the exit code. A 503 or a dropped connection is
    reported once and polled through: the job runs on whether or not the API answers."""
    deadline = None if timeout is None else clock() + timeout
    last_problem = None
    state = "unknown"
    while True:
        try:
            view = poll()
        except ApiError as error:
            if not error.retryable:
                raise CommandError(str(error)) from error
            if str(error) != last_problem:
                display.notice(f"{error} (still trying)")
            last_problem = str(error)
        else:
            last_problem = None
            if view is None:
                return UNKNOWN_JOB
            state = view["state"]
            display.show(view)
            if state in EXIT_CODES:
                return EXIT_CODES[state]
        if deadline is not None and clock() >= deadline:
            display.notice(f"the job is still {state} after {timeout:g} s; stopped watching")
            return TIMED_OUT
        sleep(interval)


def describe(view: dict[str, Any]) -> str:
    """One line for a job view: its state, then progress, result or error."""
    state = view["state"]
    if state == "PROGRESS":
        return f"{state:<9} {view['current']}/{view['total']} ({view['progress']})"
    if state == "SUCCESS":
        return f"{state:<9} {json.dumps(view.get('result'), sort_keys=True)}"
    if "error" in view:
        return f"{state:<9} {view['status']}: {view['error']}"
    return f"{state:<9} {view['status']}"


class PlainDisplay:
    """One line per change, for pipes and logs."""

    def __init__(self, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.out = out
        self.err = err
        self.last: str | None = None

    def show(self, view: dict[str, Any]) -> None:
        line = describe(view)
        if line != self.last:
            print(line, file=self.out, flush=True)
        self.last = line

    def notice(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def close(self) -> None:
        pass


class LiveDisplay:
    """A rich progress bar on a terminal, then the result (as JSON) or the error."""

    def __init__(self, job_id: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = Console()
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        self.job_id = job_id
        # No total until the first PROGRESS: the bar pulses meanwhile.
        self.task = self.progress.add_task(f"{job_id[:8]} waiting", total=None)
        self.progress.start()
        self.final: dict[str, Any] | None = None

    def show(self, view: dict[str, Any]) -> None:
        state = view["state"]
        description = f"{self.job_id[:8]} {state.lower()}"
        if state == "PROGRESS":
            self.progress.update(
                self.task, description=description, total=view["total"], completed=view["current"]
            )
        elif state == "SUCCESS":
            total = self.progress.tasks[0].total or 1
            self.progress.update(self.task, description=description, total=total, completed=total)
        else:
            self.progress.update(self.task, description=description)
        if state in EXIT_CODES:
            self.final = view

    def notice(self, text: str) -> None:
        from rich.text import Text

        self.console.print(Text(text, style="yellow"))

    def close(self) -> None:
        from rich.text import Text

        self.progress.stop()
        view = self.final
        if view is None:
            return
        if view["state"] == "SUCCESS":
            self.console.print(Text("SUCCESS", style="bold green"))
            self.console.print_json(data=view.get("result"))
        else:
            line = Text(view["state"], style="bold red")
            line.append(f" {view['status']}" + (f": {view['error']}" if view.get("error") else ""))
            self.console.print(line)


def watch_job(
    api: StackApi, job_id: str, timeout: float | None = None, interval: float = 0.5
) -> int:
    try:
        uuid.UUID(job_id)
    except ValueError:
        print(f"skylane: {job_id!r} is not a job id (job ids are UUIDs)", file=sys.stderr)
        return UNKNOWN_JOB
    display: Display = LiveDisplay(job_id) if sys.stdout.isatty() else PlainDisplay()
    try:
        code = follow(lambda: api.task(job_id), display, timeout, interval)
    finally:
        display.close()
    if code == UNKNOWN_JOB:
        print(f"skylane: no job with id {job_id}", file=sys.stderr)
    return code


def run_watch(args: argparse.Namespace) -> int:
    api = stack_api_for(target_from(args), args.token)
    return watch_job(api, args.job_id, args.timeout, args.interval)
