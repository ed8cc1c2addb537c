"""Schedule expressions against the examples of the EventBridge Scheduler and rules docs.

The base instant is Friday 2026-01-30 16:47 UTC: the month, a weekend and a leap day are near.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from aws_croniter import AwsCroniter

from skylane.schedules.expressions import (
    ScheduleExpressionError,
    first_at_or_after,
    next_occurrences,
    parse,
)

BASE = datetime(2026, 1, 30, 16, 47, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def upcoming(expression: str, after: datetime = BASE, timezone: str = "UTC") -> list[str]:
    found = next_occurrences(parse(expression, timezone, start=after), after, 3)
    return [instant.strftime("%Y-%m-%dT%H:%M") for instant in found]


CRON_EXAMPLES = [
    # 10:00 every day
    ("cron(0 10 * * ? *)", ["2026-01-31T10:00", "2026-02-01T10:00", "2026-02-02T10:00"]),
    # 12:15 every day
    ("cron(15 12 * * ? *)", ["2026-01-31T12:15", "2026-02-01T12:15", "2026-02-02T12:15"]),
    # 18:00 Monday to Friday: tonight, then over the weekend to Monday
    ("cron(0 18 ? * MON-FRI *)", ["2026-01-30T18:00", "2026-02-02T18:00", "2026-02-03T18:00"]),
    # 8:00 on the first day of every month
    ("cron(0 8 1 * ? *)", ["2026-02-01T08:00", "2026-03-01T08:00", "2026-04-01T08:00"]),
    # every 15 minutes
    ("cron(0/15 * * * ? *)", ["2026-01-30T17:00", "2026-01-30T17:15", "2026-01-30T17:30"]),
    # every 10 minutes, Monday to Friday
    ("cron(0/10 * ? * MON-FRI *)", ["2026-01-30T16:50", "2026-01-30T17:00", "2026-01-30T17:10"]),
    # every 5 minutes between 8:00 and 17:55, Monday to Friday
    (
        "cron(0/5 8-17 ? * MON-FRI *)",
        ["2026-01-30T16:50", "2026-01-30T16:55", "2026-01-30T17:00"],
    ),
    # 9:00 on the first Monday of the month (February and March 2026 start on a Sunday)
    ("cron(0 9 ? * 2#1 *)", ["2026-02-02T09:00", "2026-03-02T09:00", "2026-04-06T09:00"]),
    # the last day of the month
    ("cron(0 0 L * ? *)", ["2026-01-31T00:00", "2026-02-28T00:00", "2026-03-31T00:00"]),
    # the last Friday of the month (today's 12:00 has passed)
    ("cron(0 12 ? * 6L *)", ["2026-02-27T12:00", "2026-03-27T12:00", "2026-04-24T12:00"]),
    # the weekday nearest the 3rd, and nearest the 15th (a Sunday in February and March)
    ("cron(0 9 3W * ? *)", ["2026-02-03T09:00", "2026-03-03T09:00", "2026-04-03T09:00"]),
    ("cron(0 9 15W * ? *)", ["2026-02-16T09:00", "2026-03-16T09:00", "2026-04-15T09:00"]),
    # names and lists
    ("cron(0 9 1 JAN,JUL ? *)", ["2026-07-01T09:00", "2027-01-01T09:00", "2027-07-01T09:00"]),
    ("cron(0 6 ? * SAT,SUN *)", ["2026-01-31T06:00", "2026-02-01T06:00", "2026-02-07T06:00"]),
]


@pytest.mark.parametrize(("expression", "expected"), CRON_EXAMPLES)
def test_cron_examples_from_the_docs(expression: str, expected: list[str]) -> None:
    assert upcoming(expression) == expected


# Days some months lack and year ranges, where a library could slip; expected as the docs say.
LIBRARY_CHECKED = [
    *CRON_EXAMPLES,
    ("cron(30 9 29 2 ? *)", ["2028-02-29T09:30", "2032-02-29T09:30", "2036-02-29T09:30"]),
    ("cron(0 0 31 * ? *)", ["2026-01-31T00:00", "2026-03-31T00:00", "2026-05-31T00:00"]),
    ("cron(0 0 1 1 ? 2028-2029)", ["2028-01-01T00:00", "2029-01-01T00:00"]),
]


@pytest.mark.parametrize(("expression", "expected"), LIBRARY_CHECKED)
def test_aws_croniter_agrees_where_it_can(expression: str, expected: list[str]) -> None:
    fields = expression.removeprefix("cron(").removesuffix(")")
    theirs = AwsCroniter(fields).get_next(BASE, n=3)
    found = [instant.strftime("%Y-%m-%dT%H:%M") for instant in theirs if instant is not None]
    assert found == expected
    assert upcoming(expression) == expected


def test_year_ranges_end() -> None:
    assert upcoming("cron(0 0 1 1 ? 2028-2029)") == ["2028-01-01T00:00", "2029-01-01T00:00"]
    assert parse("cron(0 0 1 1 ? 2025)").next_after(BASE) is None


def test_days_that_some_months_lack() -> None:
    assert upcoming("cron(30 9 29 2 ? *)") == [
        "2028-02-29T09:30",
        "2032-02-29T09:30",
        "2036-02-29T09:30",
    ]
    assert upcoming("cron(0 0 31 * ? *)") == [
        "2026-01-31T00:00",
        "2026-03-31T00:00",
        "2026-05-31T00:00",
    ]


def test_nearest_weekday_stays_in_its_month() -> None:
    # 2026-08-01 is a Saturday: 1W is Monday the 3rd, not Friday 31 July.
    assert upcoming("cron(0 9 1W * ? *)", after=utc("2026-07-02T00:00"))[0] == "2026-08-03T09:00"
    # 2026-05-31 is a Sunday: LW (last weekday) is Friday the 29th.
    assert upcoming("cron(0 9 LW * ? *)", after=utc("2026-05-02T00:00"))[0] == "2026-05-29T09:00"


def test_last_weekday_of_every_month() -> None:
    # aws-croniter 2.1 crashes on LW (int('L')). The last weekday of 2026's months: 31 Jan is a
    # Saturday, 28 Feb a Saturday, 31 Mar a Tuesday, 30 Apr a Thursday.
    assert upcoming("cron(0 9 LW * ? *)", after=utc("2026-01-01T00:00")) == [
        "2026-01-30T09:00",
        "2026-02-27T09:00",
        "2026-03-31T09:00",
    ]


@pytest.mark.parametrize(
    ("expression", "complaint"),
    [
        # aws-croniter reads both (an offset from the last day, and 17:00 to 08:00 across
        # midnight); AWS documents neither, so they are refused with a reason, not guessed.
        ("cron(0 0 L-3 * ? *)", "stand alone"),
        ("cron(0 17-8 * * ? *)", "the range '17-8' runs backwards"),
        ("cron(0 0 ? * FRI-MON *)", "the range 'FRI-MON' runs backwards"),
    ],
)
def test_what_aws_does_not_document_is_refused(expression: str, complaint: str) -> None:
    with pytest.raises(ScheduleExpressionError, match=re.escape(complaint)):
        parse(expression)


def test_steps_lists_and_ranges_mix() -> None:
    assert upcoming("cron(0-10/5,30 * * * ? *)") == [
        "2026-01-30T17:00",
        "2026-01-30T17:05",
        "2026-01-30T17:10",
    ]


def test_working_hours_roll_over_to_monday() -> None:
    assert upcoming("cron(0/5 8-17 ? * MON-FRI *)", after=utc("2026-01-30T17:56")) == [
        "2026-02-02T08:00",
        "2026-02-02T08:05",
        "2026-02-02T08:10",
    ]


def test_cron_runs_in_the_schedules_time_zone() -> None:
    # 02:00 in New York is 07:00 UTC in winter (EST) and 06:00 UTC in summer (EDT).
    assert upcoming("cron(0 2 * * ? *)", timezone="America/New_York")[0] == "2026-01-31T07:00"
    summer = utc("2026-07-01T00:00")
    assert upcoming("cron(0 2 * * ? *)", summer, "America/New_York")[0] == "2026-07-01T06:00"


def test_a_wall_time_that_dst_skips_is_skipped_and_a_repeated_one_runs_once() -> None:
    # 2026-03-08: New York's clocks jump from 02:00 to 03:00, so 02:30 does not exist that day.
    assert upcoming("cron(30 2 * * ? *)", utc("2026-03-07T00:00"), "America/New_York") == [
        "2026-03-07T07:30",
        "2026-03-09T06:30",
        "2026-03-10T06:30",
    ]
    # 2026-11-01: 01:30 happens twice (EDT, then EST); the schedule runs at the first.
    assert upcoming("cron(30 1 * * ? *)", utc("2026-10-31T12:00"), "America/New_York") == [
        "2026-11-01T05:30",
        "2026-11-02T06:30",
        "2026-11-03T06:30",
    ]


@pytest.mark.parametrize(
    ("expression", "period"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(2 days)", timedelta(days=2)),
    ],
)
def test_rate_fires_every_period_from_its_start(expression: str, period: timedelta) -> None:
    schedule = parse(expression, start=BASE)
    # Scheduler invokes a rate schedule without StartDate at once.
    assert first_at_or_after(schedule, BASE) == BASE
    assert next_occurrences(schedule, BASE, 3) == [
        BASE + period,
        BASE + 2 * period,
        BASE + 3 * period,
    ]
    # Midway through a period, the next occurrence keeps the start's phase.
    assert schedule.next_after(BASE + period * 1.5) == BASE + 2 * period


def test_rate_days_are_24_hours_across_dst() -> None:
    schedule = parse("rate(1 day)", "America/New_York", start=utc("2026-03-07T12:00"))
    assert schedule.next_after(utc("2026-03-07T12:00")) == utc("2026-03-08T12:00")


def test_at_fires_once_in_its_time_zone() -> None:
    schedule = parse("at(2026-02-14T09:30:00)", "America/New_York")
    assert schedule.next_after(BASE) == utc("2026-02-14T14:30")
    assert schedule.next_after(utc("2026-02-14T14:30")) is None
    assert parse("at(2026-02-14T09:30:00)").next_after(BASE) == utc("2026-02-14T09:30")


@pytest.mark.parametrize(
    ("expression", "timezone", "complaint"),
    [
        ("rate(1 minutes)", "UTC", "'minute' for 1"),
        ("rate(5 minute)", "UTC", "'minutes' for 5"),
        ("rate(1 hours)", "UTC", "'hour' for 1"),
        ("rate(0 minutes)", "UTC", "positive"),
        ("rate(1 week)", "UTC", "minute(s), hour(s) or day(s)"),
        ("rate(-5 minutes)", "UTC", "positive whole value"),
        ("cron(0 10 * * ?)", "UTC", "6 fields"),
        ("cron(0 10 * * * *)", "UTC", "exactly one of day-of-month and day-of-week"),
        ("cron(0 18 1 * MON-FRI *)", "UTC", "exactly one of day-of-month and day-of-week"),
        ("cron(0 10 ? * ? *)", "UTC", "exactly one of day-of-month and day-of-week"),
        ("cron(0 24 * * ? *)", "UTC", "hours: '24' is not a value from 0 to 23"),
        ("cron(60 * * * ? *)", "UTC", "minutes: '60'"),
        ("cron(0 0 ? FOO * *)", "UTC", "month: 'FOO'"),
        ("cron(0 0 ? * MON-FRX *)", "UTC", "day-of-week: 'FRX'"),
        ("cron(0 17-8 * * ? *)", "UTC", "runs backwards"),
        ("cron(*/0 * * * ? *)", "UTC", "positive step"),
        ("cron(0 0 ? * 2#6 *)", "UTC", "the n of #n"),
        ("cron(0 0 1 * ? 1969)", "UTC", "year: '1969'"),
        ("cron(0 0 L,5 * ? *)", "UTC", "stand alone"),
        ("at(2026-02-30T00:00:00)", "UTC", "day is out of range"),
        ("every(1 minute)", "UTC", "expected rate(value unit), cron(six fields) or at("),
        ("rate(1 minute)", "Mars/Olympus_Mons", "unknown time zone"),
    ],
)
def test_what_scheduler_refuses_is_refused_with_a_reason(
    expression: str, timezone: str, complaint: str
) -> None:
    with pytest.raises(ScheduleExpressionError, match=re.escape(complaint)):
        parse(expression, timezone)


def test_times_without_a_zone_are_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        parse("cron(0 10 * * ? *)").next_after(datetime(2026, 1, 1))
