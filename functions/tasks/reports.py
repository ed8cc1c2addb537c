"""generate_report's work: a user's job history, summarised from the job table, stored in S3."""

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, Protocol, TypedDict, get_args

from skylane.core.aws import client
from skylane.jobs.states import JobState
from skylane.jobs.store import JobRecord, iso, utcnow

ReportType = Literal["summary", "detailed"]
REPORT_TYPES: tuple[str, ...] = get_args(ReportType)


class InvalidReportType(ValueError):
    """A report_type the API should have refused: retrying cannot fix it."""


class PublishedReport(TypedDict):
    report_key: str
    jobs_counted: int


def check_report_type(report_type: str) -> None:
    if report_type not in REPORT_TYPES:
        raise InvalidReportType(
            f"report_type must be one of {', '.join(REPORT_TYPES)}, not {report_type!r}"
        )


def report_key(user_id: int, report_type: str, job_id: str) -> str:
    return f"reports/{user_id}/{report_type}/{job_id}.json"


def build_report(
    user_id: int, report_type: str, jobs: Sequence[JobRecord], generated_at: datetime
) -> dict[str, Any]:
    check_report_type(report_type)
    report: dict[str, Any] = {
        "user_id": user_id,
        "report_type": report_type,
        "generated_at": iso(generated_at),
        "jobs_counted": len(jobs),
        "by_kind": dict(sorted(Counter(job.kind for job in jobs).items())),
        "by_state": dict(sorted(Counter(job.state.value for job in jobs).items())),
        "failures": sum(job.state is JobState.FAILURE for job in jobs),
        "durations": _duration_stats(jobs),
    }
    if report_type == "detailed":
        report["jobs"] = [_job_entry(job) for job in jobs]
    return report


class JobHistory(Protocol):
    def jobs_for_user(self, user_id: str) -> Sequence[JobRecord]: ...


def publish_report(
    bucket: str, user_id: int, report_type: str, *, job_id: str, history: JobHistory
) -> PublishedReport:
    """Write the user's report, leaving out the job producing it (it is still running)."""
    check_report_type(report_type)
    jobs = history.jobs_for_user(str(user_id))
    counted = [job for job in jobs if job.job_id != job_id]
    report = build_report(user_id, report_type, counted, utcnow())
    key = report_key(user_id, report_type, job_id)
    client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(report, indent=2).encode(),
        ContentType="application/json",
    )
    return PublishedReport(report_key=key, jobs_counted=len(counted))


def job_duration(job: JobRecord) -> float | None:
    if not job.started_at or not job.ended_at:
        return None
    started = datetime.fromisoformat(job.started_at)
    ended = datetime.fromisoformat(job.ended_at)
    return (ended - started).total_seconds()


def _duration_stats(jobs: Sequence[JobRecord]) -> dict[str, Any]:
    by_kind: defaultdict[str, list[float]] = defaultdict(list)
    for job in jobs:
        seconds = job_duration(job)
        if seconds is not None:
            by_kind[job.kind].append(seconds)
    every = [seconds for durations in by_kind.values() for seconds in durations]
    return {
        **_stats(every),
        "by_kind": {kind: _stats(durations) for kind, durations in sorted(by_kind.items())},
    }


def _stats(durations: Sequence[float]) -> dict[str, Any]:
    if not durations:
        return {"measured": 0, "mean_seconds": None, "max_seconds": None}
    return {
        "measured": len(durations),
        "mean_seconds": round(sum(durations) / len(durations), 3),
        "max_seconds": round(max(durations), 3),
    }


def _job_entry(job: JobRecord) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "job_id": job.job_id,
        "kind": job.kind,
        "state": job.state.value,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "ended_at": job.ended_at,
    }
    if job.error:
        entry["error"] = job.error
    return entry
