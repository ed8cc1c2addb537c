"""The local scheduler's loop on a fake clock: when it fires, what it delivers, and that a
failing invocation does not stop it."""

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from infra.scheduler_runner import (
    Outcome,
    Timed,
    as_named_in_the_emulator,
    describe,
    run_schedules,
)
from infra.schedules import (
    Firing,
    ScheduleDefinition,
    render_payload,
)

START = datetime(2026, 11, 28, 1, 58, 30, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def timed(name: str, expression: str, timezone: str = "UTC", **extra: Any) -> Timed:
    definition = ScheduleDefinition(
        name=name,
        function="SchedulerFunction",
        event_type="ScheduleV2",
        expression=expression,
        timezone=timezone,
        input='{"task": "t", "execution_id": "<aws.scheduler.execution-id>", '
        '"scheduled_time": "<aws.scheduler.scheduled-time>"}',
        **extra,
    )
    return Timed(definition, definition.parse(START))


def run(
    schedules: list[Timed],
    clock: FakeClock,
    invoke: Any = None,
    max_firings: int | None = None,
) -> tuple[list[Outcome], list[tuple[datetime, Any]]]:
    outcomes: list[Outcome] = []
    deliveries: list[tuple[datetime, Any]] = []

    def record(payload: Any) -> Any:
        deliveries.append((clock(), payload))
        return {"job_id": f"job-{len(deliveries)}", "task": "t", "duplicate": False}

    run_schedules(
        schedules,
        START,
        render=lambda firing: render_payload(firing, "skylane-local", "us-east-1"),
        invoke=invoke or record,
        report=outcomes.append,
        clock=clock,
        sleep=clock.sleep,
        max_firings=max_firings,
    )
    return outcomes, deliveries


def test_a_rate_schedule_fires_at_start_then_every_period() -> None:
    clock = FakeClock()
    _, deliveries = run([timed("Cleanup", "rate(1 minute)")], clock, max_firings=3)
    assert [when - START for when, _ in deliveries] == [
        timedelta(0),
        timedelta(seconds=60),
        timedelta(seconds=120),
    ]
    payloads = [payload for _, payload in deliveries]
    assert [p["scheduled_time"] for p in payloads] == [
        "2026-11-28T01:58:30Z",
        "2026-11-28T01:59:30Z",
        "2026-11-28T02:00:30Z",
    ]
    assert len({p["execution_id"] for p in payloads}) == 3


def test_schedules_interleave_in_time_order() -> None:
    clock = FakeClock()
    outcomes, _ = run(
        [timed("Hourly", "cron(0 * * * ? *)"), timed("Cleanup", "rate(1 minute)")],
        clock,
        max_firings=5,
    )
    fired = [
        (o.firing.schedule.name, o.firing.scheduled_time.strftime("%H:%M:%S")) for o in outcomes
    ]
    assert fired == [
        ("Cleanup", "01:58:30"),
        ("Cleanup", "01:59:30"),
        ("Hourly", "02:00:00"),
        ("Cleanup", "02:00:30"),
        ("Cleanup", "02:01:30"),
    ]


def test_a_failing_invocation_is_reported_and_the_loop_goes_on() -> None:
    clock = FakeClock()
    calls: list[Any] = []

    def flaky(payload: Any) -> Any:
        calls.append(payload)
        if len(calls) == 1:
            raise RuntimeError("DynamoDB is unavailable")
        return {"job_id": "j2", "task": "t", "duplicate": False}

    outcomes, _ = run([timed("Cleanup", "rate(1 minute)")], clock, invoke=flaky, max_firings=2)
    assert isinstance(outcomes[0].error, RuntimeError)
    assert outcomes[1].error is None
    assert outcomes[1].answer == {"job_id": "j2", "task": "t", "duplicate": False}
    assert "invocation failed: RuntimeError('DynamoDB is unavailable')" in describe(outcomes[0])
    assert "job j2 (t) enqueued" in describe(outcomes[1])


def test_a_one_time_schedule_fires_once_and_the_loop_ends() -> None:
    clock = FakeClock()
    outcomes, _ = run([timed("Once", "at(2026-11-28T02:10:00)")], clock)
    assert [o.firing.scheduled_time for o in outcomes] == [
        datetime(2026, 11, 28, 2, 10, tzinfo=UTC)
    ]
    assert clock.now == datetime(2026, 11, 28, 2, 10, tzinfo=UTC)


def test_a_disabled_schedule_never_fires() -> None:
    outcomes, _ = run([timed("Off", "rate(1 minute)", enabled=False)], FakeClock())
    assert outcomes == []


def test_after_a_pause_a_missed_schedule_fires_once_then_resumes_from_now() -> None:
    clock = FakeClock()

    def oversleep(seconds: float) -> None:
        clock.sleep(seconds + 600)  # the laptop slept for ten minutes

    outcomes: list[Outcome] = []
    run_schedules(
        [timed("Cleanup", "rate(1 minute)")],
        START,
        render=lambda firing: {},
        invoke=lambda payload: {"job_id": "j", "task": "t", "duplicate": False},
        report=outcomes.append,
        clock=clock,
        sleep=oversleep,
        max_firings=3,
    )
    assert [o.firing.scheduled_time - START for o in outcomes] == [
        timedelta(0),
        timedelta(seconds=60),  # due before the pause: fired once, late
        timedelta(seconds=60 + 600 + 60),  # the next one after the present, not ten in a burst
    ]


def test_the_loop_stops_when_told() -> None:
    clock = FakeClock()
    outcomes: list[Outcome] = []
    fired = run_schedules(
        [timed("Cleanup", "rate(1 minute)")],
        START,
        render=lambda firing: {},
        invoke=lambda payload: {},
        report=outcomes.append,
        clock=clock,
        sleep=clock.sleep,
        should_stop=lambda: len(outcomes) == 2,
    )
    assert fired == 2


def test_a_duplicate_is_described_as_one() -> None:
    firing = Firing(timed("Cleanup", "rate(1 minute)").definition, START, execution_id="e")
    outcome = Outcome(
        firing,
        START + timedelta(seconds=1.5),
        answer={"job_id": "j", "task": "t", "duplicate": True},
    )
    assert describe(outcome) == (
        "Cleanup (due 2026-11-28T01:58:30Z, fired 1.5 s after, execution e): "
        "job j (t) duplicate delivery, already accepted"
    )


def _not_found(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "ResourceNotFoundException"}}, operation)


class FakeScheduler:
    def __init__(self, stored: set[tuple[str, str]]) -> None:
        self.stored = stored

    def get_schedule(self, **request: str) -> dict[str, Any]:
        if (request["GroupName"], request["Name"]) not in self.stored:
            raise _not_found("GetSchedule")
        return {"Name": request["Name"]}


def test_a_schedule_the_emulators_cloudformation_made_is_delivered_under_its_own_name() -> None:
    cleanup = timed("CleanupTempFiles", "rate(1 minute)").definition
    made = "skylane-local-SchedulerFunctionCleanupTempFiles-1A2B3C"
    [named] = as_named_in_the_emulator(
        [cleanup],
        {"SchedulerFunctionCleanupTempFiles": made},
        FakeScheduler({("default", made)}),
    )
    # The ARN Scheduler's placeholder stands for, whose last part the run's record carries.
    assert named.arn("skylane-local", "us-east-1").endswith(f":schedule/default/{made}")


def test_a_schedule_only_local_setup_stored_keeps_the_stacks_name() -> None:
    cleanup = timed("CleanupTempFiles", "rate(1 minute)").definition
    [named] = as_named_in_the_emulator(
        [cleanup],
        # moto's CloudFormation records a physical id for a schedule it never made.
        {"SchedulerFunctionCleanupTempFiles": "placeholder-id"},
        FakeScheduler({("default", "skylane-local-CleanupTempFiles")}),
    )
    assert named == cleanup
    assert named.resource_name("skylane-local") == "skylane-local-CleanupTempFiles"
