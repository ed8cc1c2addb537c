"""Input keys are confined to the uploads bucket; views present one record two ways."""

from typing import Any

import pytest

from functions.api.upload_objects import input_key, safe_filename
from functions.api.views import celery_view, rq_view
from skylane.core.errors import InvalidInput
from skylane.jobs.states import JobState
from skylane.jobs.store import JobRecord
from tests.unit.conftest import UPLOADS


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../x y.txt", "x_y.txt"),
        ("C:\\a\\b.txt", "b.txt"),
        ("..", "file"),
    ],
)
def test_safe_filename(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_input_key_accepts_keys_and_uris_of_the_uploads_bucket(aws: dict[str, Any]) -> None:
    assert input_key("uploads/a/b.txt") == "uploads/a/b.txt"
    assert input_key(f"s3://{UPLOADS}/uploads/a/b.txt") == "uploads/a/b.txt"


@pytest.mark.parametrize(
    "path", ["", "/abs", "a/../b", "a//b", "a\\b", "s3://other/key", "a/\x00", "x" * 1025]
)
def test_input_key_refuses_anything_else(aws: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidInput):
        input_key(path)


def record(state: JobState, **fields: Any) -> JobRecord:
    return JobRecord(
        job_id="j",
        task="skylane.generate_report",
        kind="generate_report",
        queue="high",
        state=state,
        created_at="2026-01-01T00:00:00.000Z",
        **fields,
    )


def never_link(key: str) -> str:
    raise AssertionError("no report to link")


def test_progress_shows_current_total_and_a_percentage() -> None:
    view = celery_view(record(JobState.PROGRESS, current=1, total=3), never_link)
    assert view == {
        "state": "PROGRESS",
        "status": "Job is in progress",
        "current": 1,
        "total": 3,
        "progress": "33.3%",
    }


def test_rq_statuses() -> None:
    assert rq_view(record(JobState.RETRY), never_link)["status"] == "scheduled"
    assert rq_view(record(JobState.STARTED), never_link)["status"] == "started"
    assert rq_view(record(JobState.REVOKED), never_link)["status"] == "canceled"


def test_report_results_get_a_fresh_link() -> None:
    done = record(JobState.SUCCESS, result={"report_key": "reports/1/summary/j.json"})
    view = rq_view(done, lambda key: f"https://signed/{key}")
    assert view["result"]["url"] == "https://signed/reports/1/summary/j.json"
