"""A job's log lines for its detail view (GET /jobs/{id}, the dashboard).

The search of ``skylane logs`` (skylane/observability/log_search.py), bounded to the job's
lifetime, MAX_LINES lines and MAX_PAGES pages per group. Log lines never fail the detail: when
CloudWatch Logs cannot be read, it answers with no lines and says why.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from skylane.core.settings import Settings
from skylane.jobs.store import JobRecord, iso, utcnow
from skylane.observability.log_search import Bounds, LogLine, search_bounded

MAX_LINES = 200
MAX_PAGES = 5
# The API logs "job accepted" a moment after it writes created_at, but clocks of different
# machines (Lambda, ECS) differ by a little; a line stamped slightly early is still the job's.
BEFORE_MARGIN = timedelta(seconds=10)
# The worker's last lines ("job finished", a retry's note) follow ended_at by a little.
AFTER_MARGIN = timedelta(minutes=2)
# A record without created_at (never written by this code, but read defensively) is searched
# this far back from its end only.
FALLBACK_SPAN = timedelta(days=1)


@dataclass(frozen=True)
class JobLogs:
    # Oldest first, each {"timestamp", "component", "level", "message"}; None: not searched.
    lines: list[dict[str, Any]] | None
    # Why ``lines`` is None or incomplete; None when it is every line of the job.
    reason: str | None = None


def log_groups(settings: Settings) -> dict[str, str]:
    """Component name (skylane.observability.log_search.COMPONENTS) -> the log group the API may search."""
    groups = {
        "api": settings.aws_lambda_log_group_name,
        "worker": settings.worker_log_group,
        "scheduler": settings.scheduler_log_group,
        "light": settings.light_log_group,
    }
    return {component: group for component, group in groups.items() if group}


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def time_window(record: JobRecord, now: datetime) -> tuple[datetime, datetime]:
    """From a little before the job was created to a while after it ended (or now)."""
    end = (_moment(record.ended_at) or now) + AFTER_MARGIN
    created = _moment(record.created_at)
    start = created - BEFORE_MARGIN if created else end - FALLBACK_SPAN
    return start, end


def as_entry(line: LogLine) -> dict[str, Any]:
    """What the dashboard shows of a line."""
    return {
        "timestamp": iso(line.timestamp),
        "component": line.component,
        "level": line.level,
        "message": line.message,
    }


def _describe(error: Exception) -> str:
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        return f"{detail.get('Code', 'error')}: {detail.get('Message', '')}".strip(": ")
    return str(error) or type(error).__name__


def job_logs(
    logs: Any,
    groups: Mapping[str, str],
    record: JobRecord,
    *,
    max_lines: int = MAX_LINES,
    max_pages: int = MAX_PAGES,
    now: Callable[[], datetime] = utcnow,
) -> JobLogs:
    """The job's lines from every group, in time order, within the bounds."""
    if not groups:
        return JobLogs(None, "log search is not configured for this API (no log group names)")
    start, end = time_window(record, now())
    try:
        lines, complete = search_bounded(
            logs,
            groups,
            record.job_id,
            since=start,
            until=end,
            bounds=Bounds(max_events=max_lines, max_pages=max_pages),
        )
    except (BotoCoreError, ClientError) as error:
        return JobLogs(None, f"CloudWatch Logs could not be read ({_describe(error)})")
    reason = None if complete else f"the job has more log lines than the first {len(lines)} shown"
    return JobLogs([as_entry(line) for line in lines], reason)
