"""``skylane watch``: a job's views in, lines and an exit code out (a fake poller, no network)."""

import io
from collections.abc import Iterator
from typing import Any

import pytest

from skylane_cli.stack_api import ApiError
from skylane_cli.watch import PlainDisplay, follow

PENDING = {"state": "PENDING", "status": "Job is waiting in the queue"}
STARTED = {"state": "STARTED", "status": "Job has started"}


def progress(current: int, total: int) -> dict[str, Any]:
    return {
        "state": "PROGRESS",
        "status": "Job is in progress",
        "current": current,
        "total": total,
        "progress": f"{current / total * 100:.1f}%",
    }


class FakePoller:
    """GET /task/{id}, answering the given views (or raising the given errors) in turn."""

    def __init__(self, *answers: Any) -> None:
        self.answers: Iterator[Any] = iter(answers)

    def __call__(self) -> dict[str, Any] | None:
        answer = next(self.answers)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]


def watched(*answers: Any, timeout: float | None = None) -> tuple[int, list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    ticks = iter(range(1000))
    code = follow(
        FakePoller(*answers),
        PlainDisplay(out, err),
        timeout=timeout,
        interval=1.0,
        sleep=lambda seconds: None,
        clock=lambda: float(next(ticks)),
    )
    return code, out.getvalue().splitlines(), err.getvalue()


def test_one_line_per_change_then_the_result() -> None:
    success = {"state": "SUCCESS", "status": "Job completed", "result": {"lines": 3, "chunks": 2}}
    code, lines, _ = watched(
        PENDING, PENDING, STARTED, progress(1, 2), progress(1, 2), progress(2, 2), success
    )
    assert code == 0
    assert lines == [
        "PENDING   Job is waiting in the queue",
        "STARTED   Job has started",
        "PROGRESS  1/2 (50.0%)",
        "PROGRESS  2/2 (100.0%)",
        'SUCCESS   {"chunks": 2, "lines": 3}',
    ]


@pytest.mark.parametrize(
    ("final", "line"),
    [
        (
            {"state": "FAILURE", "status": "Job failed", "error": "NoSuchKey: uploads/x"},
            "FAILURE   Job failed: NoSuchKey: uploads/x",
        ),
        ({"state": "REVOKED", "status": "Job was cancelled"}, "REVOKED   Job was cancelled"),
    ],
)
def test_a_failed_or_cancelled_job_exits_1_with_the_error(final: dict[str, Any], line: str) -> None:
    code, lines, _ = watched(STARTED, final)
    assert code == 1
    assert lines[-1] == line


def test_a_retry_shows_its_error_and_watching_goes_on() -> None:
    retry = {"state": "RETRY", "status": "Job failed and will be retried", "error": "SES throttled"}
    success = {"state": "SUCCESS", "status": "Job completed", "result": None}
    code, lines, _ = watched(STARTED, retry, STARTED, success)
    assert code == 0
    assert lines[1] == "RETRY     Job failed and will be retried: SES throttled"


def test_an_unknown_job_exits_2() -> None:
    code, lines, _ = watched(None)
    assert code == 2
    assert lines == []


def test_an_api_outage_is_noticed_once_and_watched_through() -> None:
    outage = ApiError("GET /task/x answered 503: DynamoDB is unavailable right now.", 503)
    success = {"state": "SUCCESS", "status": "Job completed", "result": 1}
    code, lines, err = watched(STARTED, outage, outage, success)
    assert code == 0
    assert err.count("DynamoDB is unavailable") == 1
    assert lines[-1] == "SUCCESS   1"


def test_a_refusal_that_will_not_pass_stops_the_watch() -> None:
    from skylane_cli.common import CommandError

    with pytest.raises(CommandError, match="403"):
        watched(ApiError("GET /task/x answered 403: Forbidden", 403))


def test_timeout_exits_3_and_says_where_the_job_was() -> None:
    code, lines, err = watched(*[progress(1, 9)] * 10, timeout=3)
    assert code == 3
    assert lines == ["PROGRESS  1/9 (11.1%)"]
    assert "still PROGRESS after 3 s" in err


def test_an_id_that_is_no_uuid_is_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    from skylane_cli.stack_api import StackApi
    from skylane_cli.watch import watch_job

    assert watch_job(StackApi("http://127.0.0.1:1"), "not-a-job") == 2
    assert "'not-a-job' is not a job id" in capsys.readouterr().err
