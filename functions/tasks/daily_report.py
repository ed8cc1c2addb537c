"""generate_daily_report's work: what ran on one UTC day (yesterday by default), from the job
table's by_day index, written as JSON to the reports bucket.
"""

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, TypedDict

from functions.tasks.reports import job_duration
from skylane.core.aws import client
from skylane.jobs.states import JobState
from skylane.jobs.store import JobRecord, iso, utcnow

# A bad day can fail thousands of jobs; the report lists this many, the counts cover them all.
MAX_FAILURES_LISTED = 1000
_DAY_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")


class InvalidReportDay(ValueError):
    """The day asked for is not a past or present UTC date: retrying cannot fix it."""


class PublishedDailyReport(TypedDict):
    day: str
    report_key: str
    jobs: int


class JobsByDay(Protocol):
    def jobs_created_on(self, day: date) -> Sequence[JobRecord]: ...


def report_day(day: object, today: date) -> date:
    """The day to report on: `day` as YYYY-MM-DD, or the day before `today` when None."""
    if day is None:
        return today - timedelta(days=1)
    if not isinstance(day, str) or not _DAY_FORMAT.fullmatch(day):
        raise InvalidReportDay(f"day must be a date as YYYY-MM-DD, not {day!r}")
    try:
        parsed = date.fromisoformat(day)
    except ValueError as exc:
        raise InvalidReportDay(f"day {day!r} is not a calendar date: {exc}") from exc
    if parsed > today:
        raise InvalidReportDay(f"day {day} is in the future (today is {today.isoformat()} UTC)")
    return parsed


def daily_report_key(day: date) -> str:
    return f"reports/daily/{day.isoformat()}.json"


def build_daily_report(
    day: date, jobs: Sequence[JobRecord], generated_at: datetime
) -> dict[str, Any]:
    by_task_state: defaultdict[str, Counter[str]] = defaultdict(Counter)
    durations: defaultdict[str, list[float]] = defaultdict(list)
    for job in jobs:
        by_task_state[job.task][job.state.value] += 1
        seconds = job_duration(job)
        if seconds is not None:
            durations[job.task].append(seconds)
    failures = [
        {"job_id": job.job_id, "task": job.task, "error": job.error}
        for job in jobs
        if job.state is JobState.FAILURE
    ]
    return {
        "day": day.isoformat(),
        "generated_at": iso(generated_at),
        "jobs": len(jobs),
        "by_task": dict(sorted(Counter(job.task for job in jobs).items())),
        "by_state": dict(sorted(Counter(job.state.value for job in jobs).items())),
        "by_task_state": {
            task: dict(sorted(states.items())) for task, states in sorted(by_task_state.items())
        },
        "failures": failures[:MAX_FAILURES_LISTED],
        "failures_truncated": len(failures) > MAX_FAILURES_LISTED,
        "durations": {task: duration_stats(values) for task, values in sorted(durations.items())},
    }


def duration_stats(durations: Sequence[float]) -> dict[str, Any]:
    ordered = sorted(durations)
    return {
        "count": len(ordered),
        "p50_seconds": round(_nearest_rank(ordered, 50), 3),
        "p95_seconds": round(_nearest_rank(ordered, 95), 3),
        "max_seconds": round(ordered[-1], 3),
    }


def _nearest_rank(ordered: Sequence[float], percentile: int) -> float:
    """Nearest-rank percentile: always a duration that actually occurred, even for one job."""
    return ordered[max(1, math.ceil(percentile / 100 * len(ordered))) - 1]


def publish_daily_report(
    bucket: str,
    day: object,
    *,
    job_id: str,
    store: JobsByDay,
    now: datetime | None = None,
) -> PublishedDailyReport:
    """Write the day's report, leaving out the job producing it (it is still running)."""
    moment = now or utcnow()
    reported = report_day(day, moment.astimezone(UTC).date())
    jobs = [job for job in store.jobs_created_on(reported) if job.job_id != job_id]
    report = build_daily_report(reported, jobs, moment)
    key = daily_report_key(reported)
    client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(report, indent=2).encode(),
        ContentType="application/json",
    )
    return PublishedDailyReport(day=reported.isoformat(), report_key=key, jobs=len(jobs))
