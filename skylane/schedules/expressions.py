"""EventBridge Scheduler's schedule expressions, validated as Scheduler does and evaluated.

The API refuses what Scheduler would refuse (moto validates nothing) and shows next runs; the
local runner fires schedules from it. ``rate()``, ``cron()`` and ``at()`` in the schedule's time
zone; why not a library: the README's *Runtime schedules*.
"""

import calendar
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTE = timedelta(minutes=1)
RATE_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
MONTH_NAMES = {name.upper(): number for number, name in enumerate(calendar.month_abbr) if name}
# AWS numbers the days of the week from Sunday: 1 = SUN ... 7 = SAT.
WEEKDAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
SATURDAY = 7
FIRST_YEAR, LAST_YEAR = 1970, 2199

RATE = re.compile(r"rate\((?P<value>\d+) (?P<unit>minutes?|hours?|days?)\)")
CRON = re.compile(r"cron\((?P<fields>.*)\)")
AT = re.compile(r"at\((?P<when>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")


class ScheduleExpressionError(ValueError):
    """An expression Scheduler would refuse (CreateSchedule's ValidationException)."""


class ScheduleExpression(Protocol):
    @property
    def expression(self) -> str: ...

    def next_after(self, instant: datetime) -> datetime | None:
        """The first occurrence strictly after ``instant`` (UTC), or None if there is none."""
        ...


def _require_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError(f"{instant!r} has no time zone: schedule times are instants")
    return instant.astimezone(UTC)


def first_at_or_after(schedule: ScheduleExpression, instant: datetime) -> datetime | None:
    """The first occurrence at ``instant`` or later: what is due when a schedule is created."""
    return schedule.next_after(instant - timedelta.resolution)


def next_occurrences(schedule: ScheduleExpression, after: datetime, count: int) -> list[datetime]:
    found: list[datetime] = []
    cursor: datetime | None = after
    while len(found) < count and cursor is not None:
        cursor = schedule.next_after(cursor)
        if cursor is not None:
            found.append(cursor)
    return found


@dataclass(frozen=True)
class RateExpression:
    expression: str
    period: timedelta
    start: datetime

    def next_after(self, instant: datetime) -> datetime | None:
        instant = _require_aware(instant)
        if instant < self.start:
            return self.start
        periods_passed = (instant - self.start) // self.period
        return self.start + (periods_passed + 1) * self.period


@dataclass(frozen=True)
class AtExpression:
    expression: str
    when: datetime

    def next_after(self, instant: datetime) -> datetime | None:
        return self.when if _require_aware(instant) < self.when else None


DayMatcher = Callable[[date], bool]


@dataclass(frozen=True)
class CronExpression:
    expression: str
    zone: ZoneInfo
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: frozenset[int]
    years: tuple[int, ...]
    day_matches: DayMatcher

    def next_after(self, instant: datetime) -> datetime | None:
        instant = _require_aware(instant)
        # A day back: where clocks go back at midnight, a later instant can fall on an
        # earlier local date.
        first_day = instant.astimezone(self.zone).date() - timedelta(days=1)
        for day in self._matching_days(first_day):
            for hour in self.hours:
                for minute in self.minutes:
                    wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
                    occurrence = wall.astimezone(UTC)
                    if occurrence > instant and _exists(wall):
                        return occurrence
        return None

    def _matching_days(self, first_day: date) -> Iterator[date]:
        for year in self.years:
            if year < first_day.year:
                continue
            for month in sorted(self.months):
                if (year, month) < (first_day.year, first_day.month):
                    continue
                for day_number in range(1, calendar.monthrange(year, month)[1] + 1):
                    day = date(year, month, day_number)
                    if day >= first_day and self.day_matches(day):
                        yield day


def _exists(wall: datetime) -> bool:
    """False for a wall time that daylight saving time skips (Scheduler skips it too)."""
    round_trip = wall.astimezone(UTC).astimezone(wall.tzinfo)
    return round_trip.replace(tzinfo=None) == wall.replace(tzinfo=None)


def _aws_weekday(day: date) -> int:
    return day.isoweekday() % 7 + 1


def _days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(year: int, month: int, target: int) -> int | None:
    """The day ``nW`` means: the weekday nearest ``target`` without leaving the month."""
    last = calendar.monthrange(year, month)[1]
    if target > last:
        return None
    weekday = date(year, month, target).isoweekday()
    if weekday == 6:  # Saturday: the Friday before, or the Monday after on the 1st
        return target - 1 if target > 1 else target + 2
    if weekday == 7:  # Sunday: the Monday after, or the Friday before on the last day
        return target + 1 if target < last else target - 2
    return target


def _last_weekday(year: int, month: int) -> int:
    last = calendar.monthrange(year, month)[1]
    weekday = date(year, month, last).isoweekday()
    return last - max(0, weekday - 5)


def _number(text: str, names: dict[str, int], low: int, high: int, field: str) -> int:
    value = names.get(text.upper()) if not text.isdigit() else int(text)
    if value is None or not low <= value <= high:
        raise ScheduleExpressionError(f"{field}: {text!r} is not a value from {low} to {high}")
    return value


def _values(
    text: str, field: str, low: int, high: int, names: dict[str, int] | None = None
) -> frozenset[int]:
    """A field of ``*``, values, ranges, steps and lists of them, as the set of values it means."""
    names = names or {}
    values: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        if base == "*":
            first, last = low, high
        else:
            first_text, dash, last_text = base.partition("-")
            first = _number(first_text, names, low, high, field)
            # "5/10" runs from 5 to the field's end; a plain "5" is just 5.
            last = high if slash else first
            if dash:
                last = _number(last_text, names, low, high, field)
        if last < first:
            raise ScheduleExpressionError(f"{field}: the range {item!r} runs backwards")
        if slash and (not step_text.isdigit() or int(step_text) == 0):
            raise ScheduleExpressionError(f"{field}: {item!r} needs a positive step after '/'")
        values.update(range(first, last + 1, int(step_text) if slash else 1))
    return frozenset(values)


def _day_of_month(text: str) -> DayMatcher:
    field = "day-of-month"
    if text == "L":
        return lambda day: day.day == _days_in_month(day)
    if text == "LW":
        return lambda day: day.day == _last_weekday(day.year, day.month)
    if text.endswith("W"):
        target = _number(text[:-1], {}, 1, 31, field)
        return lambda day: day.day == _nearest_weekday(day.year, day.month, target)
    if "L" in text or "W" in text or "#" in text:
        raise ScheduleExpressionError(f"{field}: cannot read {text!r} (L, LW and nW stand alone)")
    days = _values(text, field, 1, 31)
    return lambda day: day.day in days


def _day_of_week(text: str) -> DayMatcher:
    field = "day-of-week"
    if text == "L":
        return lambda day: _aws_weekday(day) == SATURDAY
    if text.endswith("L"):
        weekday = _number(text[:-1], WEEKDAY_NAMES, 1, 7, field)
        return lambda day: _aws_weekday(day) == weekday and day.day + 7 > _days_in_month(day)
    if "#" in text:
        weekday_text, _, nth_text = text.partition("#")
        weekday = _number(weekday_text, WEEKDAY_NAMES, 1, 7, field)
        nth = _number(nth_text, {}, 1, 5, f"{field} (the n of #n)")
        return lambda day: _aws_weekday(day) == weekday and (day.day - 1) // 7 + 1 == nth
    weekdays = _values(text, field, 1, 7, WEEKDAY_NAMES)
    return lambda day: _aws_weekday(day) in weekdays


def _cron(expression: str, fields_text: str, zone: ZoneInfo) -> CronExpression:
    fields = fields_text.split()
    if len(fields) != 6:
        raise ScheduleExpressionError(
            f"{expression}: a cron expression has 6 fields "
            f"(minutes hours day-of-month month day-of-week year), not {len(fields)}"
        )
    minutes, hours, day_of_month, month, day_of_week, year = fields
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ScheduleExpressionError(
            f"{expression}: exactly one of day-of-month and day-of-week must be '?' "
            "(a value or * in one of them needs ? in the other)"
        )
    if "?" in (minutes, hours, month, year):
        raise ScheduleExpressionError(f"{expression}: '?' is only for the two day fields")
    try:
        return CronExpression(
            expression=expression,
            zone=zone,
            minutes=tuple(sorted(_values(minutes, "minutes", 0, 59))),
            hours=tuple(sorted(_values(hours, "hours", 0, 23))),
            months=_values(month, "month", 1, 12, MONTH_NAMES),
            years=tuple(sorted(_values(year, "year", FIRST_YEAR, LAST_YEAR))),
            day_matches=(
                _day_of_week(day_of_week) if day_of_month == "?" else _day_of_month(day_of_month)
            ),
        )
    except ScheduleExpressionError as error:
        raise ScheduleExpressionError(f"{expression}: {error}") from None


def _rate(expression: str, value_text: str, unit: str, start: datetime) -> RateExpression:
    value = int(value_text)
    if value == 0:
        raise ScheduleExpressionError(f"{expression}: the rate must be a positive number")
    singular = unit.rstrip("s")
    if (value == 1) != (unit == singular):
        wanted = singular if value == 1 else singular + "s"
        raise ScheduleExpressionError(
            f"{expression}: AWS wants {wanted!r} for {value} (singular for 1, plural otherwise)"
        )
    return RateExpression(expression, value * RATE_UNITS[singular], _require_aware(start))


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ScheduleExpressionError(f"unknown time zone {timezone!r}") from error


def parse(
    expression: str, timezone: str = "UTC", start: datetime | None = None
) -> ScheduleExpression:
    """Read a ScheduleExpression as Scheduler does; refuse what it refuses, saying why.

    ``start`` is when a rate schedule starts (the schedule's creation): now if not given.
    """
    zone = _zone(timezone)
    if match := RATE.fullmatch(expression):
        return _rate(expression, match["value"], match["unit"], start or datetime.now(UTC))
    if match := CRON.fullmatch(expression):
        return _cron(expression, match["fields"], zone)
    if match := AT.fullmatch(expression):
        try:
            wall = datetime.fromisoformat(match["when"])
        except ValueError as error:
            raise ScheduleExpressionError(f"{expression}: {error}") from error
        return AtExpression(expression, wall.replace(tzinfo=zone).astimezone(UTC))
    if expression.startswith("rate("):
        raise ScheduleExpressionError(
            f"{expression}: expected rate(value unit) with a positive whole value and a unit of "
            "minute(s), hour(s) or day(s)"
        )
    raise ScheduleExpressionError(
        f"{expression}: expected rate(value unit), cron(six fields) or at(yyyy-mm-ddThh:mm:ss)"
    )
