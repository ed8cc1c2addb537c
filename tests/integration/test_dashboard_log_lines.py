"""The dashboard's job detail (GET /jobs/{id}) against the local stack: the job's log lines,
shipped by every child into the emulator's CloudWatch Logs, read back by the API itself."""

import time
from typing import Any

import httpx
import pytest

from tests.integration.client import follow, submit
from tests.integration.conftest import LocalStack

pytestmark = pytest.mark.integration

EMAIL = {"email": "user@example.com", "subject": "Detail", "body": "Hello"}


def detail_with_lines(api_url: str, job_id: str, *wanted: tuple[str, str]) -> dict[str, Any]:
    """GET /jobs/{id} until it lists each (component, message) wanted: each child ships its
    own lines, about a second behind them, so one child's may arrive before another's."""
    deadline = time.monotonic() + 30
    while True:
        answer = httpx.get(f"{api_url}/jobs/{job_id}", timeout=30)
        assert answer.status_code == 200, answer.text
        detail: dict[str, Any] = answer.json()
        lines = detail["logs"]
        assert lines is not None, detail["logs_reason"]
        seen = {(e["component"], e["message"]) for e in lines}
        if seen.issuperset(wanted):
            return detail
        assert time.monotonic() < deadline, f"not all of {wanted} yet; saw {lines}"
        time.sleep(0.5)


@pytest.mark.every_emulator
def test_a_finished_jobs_detail_shows_its_api_and_worker_lines_in_time_order(
    local_stack: LocalStack,
) -> None:
    job_id = submit(local_stack.api_url, "/send-email", EMAIL)
    assert follow(local_stack.api_url, job_id).final["state"] == "SUCCESS"

    detail = detail_with_lines(
        local_stack.api_url, job_id, ("api", "job accepted"), ("worker", "job finished")
    )

    lines = detail["logs"]
    said = [(e["component"], e["level"], e["message"]) for e in lines]
    assert ("api", "INFO", "job accepted") in said
    assert said.index(("worker", "INFO", "job started")) < said.index(
        ("worker", "INFO", "job finished")
    )
    assert [e["timestamp"] for e in lines] == sorted(e["timestamp"] for e in lines)
    assert detail["logs_reason"] is None
