"""``python -m infra.scheduler_runner``: EventBridge Scheduler for the local stack.

moto never fires schedules nor runs Lambda code: this process evaluates each schedule of one
function (template.yaml) and, when one is due, calls the handler in-process with the payload
Scheduler renders. ``--fire NAME`` fires one now and prints the handler's answer as JSON.
"""

import argparse
import contextlib
import json
import os
import sys
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from infra.emulator_schedules import made_by_the_emulator
from infra.function_runner import (
    Invoke,
    emulator_account,
    function_invoker,
    lambda_region,
    physical_name,
    run_until_stopped,
)
from infra.processes import SCHEDULER_FUNCTION, SCHEDULER_READY
from infra.runtime_schedule_runner import GROUP_VARIABLE, RuntimeScheduleLoop, service_client
from infra.schedules import (
    Firing,
    ScheduleDefinition,
    find_schedule,
    format_time,
    load_template,
    print_table,
    read_schedules,
    render_payload,
    schedules_table,
    with_kwargs,
)
from skylane.schedules.expressions import ScheduleExpression, first_at_or_after

# The wait for the next firing is cut into slices so that the wall clock is read again often:
# a sleeping laptop stops the monotonic clock that a long wait measures.
MAX_SLEEP_SECONDS = 30.0


@dataclass(frozen=True)
class Timed:
    """A schedule with its expression parsed (rate schedules anchored at the stack's start)."""

    definition: ScheduleDefinition
    expression: ScheduleExpression


@dataclass(frozen=True)
class Outcome:
    """What one firing did: the handler's answer, or the error its invocation failed with."""

    firing: Firing
    fired_at: datetime
    answer: Any = None
    error: BaseException | None = None


def run_schedules(
    schedules: Sequence[Timed],
    start: datetime,
    *,
    render: Callable[[Firing], Any],
    invoke: Invoke,
    report: Callable[[Outcome], None],
    clock: Callable[[], datetime],
    sleep: Callable[[float], object],
    should_stop: Callable[[], bool] = lambda: False,
    max_firings: int | None = None,
) -> int:
    """Fire every enabled schedule when due, until told to stop; returns how many fired.

    An occurrence at ``start`` itself is due (Scheduler invokes a rate schedule at once). A
    failed invocation is reported and the loop goes on, as Lambda reports a failed invocation
    and Scheduler keeps its schedule. After a pause (a laptop asleep), each schedule fires its
    first missed occurrence once and then continues from the present, never in a burst.
    """
    due: dict[int, datetime | None] = {
        index: first_at_or_after(timed.expression, start)
        for index, timed in enumerate(schedules)
        if timed.definition.enabled
    }
    fired = 0
    while not should_stop() and (max_firings is None or fired < max_firings):
        upcoming = [(when, index) for index, when in due.items() if when is not None]
        if not upcoming:
            return fired  # only one-time schedules, all of them done
        when, index = min(upcoming)
        wait = (when - clock()).total_seconds()
        if wait > 0:
            # Sleep, then look again: the sleep may end early (a stop) or late.
            sleep(wait)
            continue
        timed = schedules[index]
        firing = Firing(schedule=timed.definition, scheduled_time=when)
        fired_at = clock()
        try:
            answer = invoke(render(firing))
        except Exception as error:
            report(Outcome(firing, fired_at, error=error))
        else:
            report(Outcome(firing, fired_at, answer=answer))
        fired += 1
        due[index] = timed.expression.next_after(max(when, clock()))
    return fired


def describe(outcome: Outcome) -> str:
    firing = outcome.firing
    late = (outcome.fired_at - firing.scheduled_time).total_seconds()
    head = (
        f"{firing.schedule.name} (due {format_time(firing.scheduled_time)}, "
        f"fired {late:.1f} s after, execution {firing.execution_id})"
    )
    if outcome.error is not None:
        lines = traceback.format_exception(outcome.error)
        return f"{head}: invocation failed: {outcome.error!r}\n{''.join(lines).rstrip()}"
    answer = outcome.answer
    if isinstance(answer, Mapping) and "job_id" in answer:
        kind = "duplicate delivery, already accepted" if answer.get("duplicate") else "enqueued"
        if answer.get("skipped_for"):
            kind = f"skipped (overlap: run {answer['skipped_for']} still going)"
        if answer.get("held_for"):
            kind = f"held (overlap buffer_one: run {answer['held_for']} still going)"
        return f"{head}: job {answer['job_id']} ({answer.get('task')}) {kind}"
    return f"{head}: answered {json.dumps(answer, default=str)}"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.scheduler_runner", description=__doc__)
    parser.add_argument("--stack-name", required=True, help="the local stack's name (for ARNs)")
    parser.add_argument("--function", default=SCHEDULER_FUNCTION, help="whose schedules to fire")
    parser.add_argument(
        "--start",
        type=datetime.fromisoformat,
        default=None,
        help="when the stack started, ISO 8601 (rate schedules count from it; default now)",
    )
    parser.add_argument("--fire", metavar="NAME", help="fire this schedule once, now, and exit")
    parser.add_argument(
        "--kwargs", type=json.loads, default=None, help="with --fire: the task's kwargs as JSON"
    )
    return parser.parse_args(argv)


def fire_once(
    schedule: ScheduleDefinition,
    invoke: Invoke,
    stack_name: str,
    region: str,
    kwargs: Mapping[str, Any] | None,
    account: str,
) -> Any:
    firing = Firing(schedule=schedule, scheduled_time=datetime.now(UTC).replace(microsecond=0))
    payload = render_payload(firing, stack_name, region, account)
    if kwargs is not None:
        payload = with_kwargs(payload, kwargs)
    return invoke(payload)


def one_at_a_time(invoke: Invoke) -> Invoke:
    """The template's and the runtime schedules share one handler, which Lambda would run in
    separate environments: here their invocations take turns."""
    lock = threading.Lock()

    def invoke_alone(payload: Any) -> Any:
        with lock:
            return invoke(payload)

    return invoke_alone


def stack_physical_ids(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """The stack's resources by logical id (none if it is not there)."""
    found: dict[str, str] = {}
    with contextlib.suppress(ClientError):
        pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
        for page in pages:
            for resource in page["StackResourceSummaries"]:
                found[resource["LogicalResourceId"]] = resource.get("PhysicalResourceId", "")
    return found


def as_named_in_the_emulator(
    schedules: Sequence[ScheduleDefinition], physical_ids: Mapping[str, str], scheduler: Any
) -> list[ScheduleDefinition]:
    """The template's schedules under the names the emulator stores them by.

    The ARN each delivery carries must name the schedule that exists: its runs' records carry
    that name, by which the API lists the schedule and its runs.
    """
    named = []
    for schedule in schedules:
        made = made_by_the_emulator(scheduler, physical_ids, schedule)
        named.append(replace(schedule, explicit_name=made) if made else schedule)
    return named


def runtime_loop(
    stack_name: str, region: str, account: str, invoke: Invoke
) -> RuntimeScheduleLoop | None:
    """The runtime schedules' loop, if the function has a schedule group (SCHEDULE_GROUP)."""
    group = os.environ.get(GROUP_VARIABLE)
    if not group:
        return None

    def report(
        firing: Firing, fired_at: datetime, answer: Any, error: BaseException | None
    ) -> None:
        print(describe(Outcome(firing, fired_at, answer=answer, error=error)), flush=True)

    return RuntimeScheduleLoop(service_client(), group, stack_name, region, account, invoke, report)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    region = lambda_region()
    template = load_template()
    schedules = as_named_in_the_emulator(
        read_schedules(template, function=args.function),
        stack_physical_ids(service_client(service="cloudformation"), args.stack_name),
        service_client(),
    )
    name = physical_name(args.stack_name, args.function)

    if args.fire is not None:
        schedule = find_schedule(schedules, args.fire)
        # The handler's logger binds stdout when it is imported: keep stdout for the answer.
        with contextlib.redirect_stdout(sys.stderr):
            invoke = function_invoker(template, args.function, name, region)
            answer = fire_once(
                schedule, invoke, args.stack_name, region, args.kwargs, emulator_account()
            )
        print(json.dumps(answer, default=str))
        return 0

    invoke = one_at_a_time(function_invoker(template, args.function, name, region))
    account = emulator_account()
    start = args.start or datetime.now(UTC)
    print_table(schedules_table(schedules, start, datetime.now(UTC)))
    timed = [Timed(schedule, schedule.parse(start)) for schedule in schedules]
    runtime = runtime_loop(args.stack_name, region, account, invoke)

    def fire_until_stopped(stop: threading.Event) -> None:
        if runtime is not None:
            threading.Thread(target=runtime.run, args=(stop,), daemon=True).start()
        # A firing under way finishes (its job record and message stay consistent), then we
        # exit.
        run_schedules(
            timed,
            start,
            render=lambda firing: render_payload(firing, args.stack_name, region, account),
            invoke=invoke,
            report=lambda outcome: print(describe(outcome), flush=True),
            clock=lambda: datetime.now(UTC),
            sleep=lambda seconds: stop.wait(min(seconds, MAX_SLEEP_SECONDS)),
            should_stop=stop.is_set,
        )
        # Nothing left to fire (one-time schedules only): stay up, as the stack's other
        # processes do, since a child that exits stops `make up`.
        stop.wait()

    return run_until_stopped(
        f"{SCHEDULER_READY}: {len(timed)} schedules of {args.function}", fire_until_stopped
    )


if __name__ == "__main__":
    sys.exit(main())
