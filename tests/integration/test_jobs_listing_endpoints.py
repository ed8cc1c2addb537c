"""GET /jobs and GET /jobs/{id} through the API process against the emulator's job table."""

import httpx
import pytest

from tests.integration.client import follow, submit
from tests.integration.conftest import LocalStack

pytestmark = pytest.mark.integration


def every_page(
    api_url: str, limit: int, until_seen: set[str] | None = None, **filters: str
) -> list[dict[str, object]]:
    """The pages, newest first, to the last one, or to the one where every job of
    ``until_seen`` has been listed (the session's other tests leave thousands of older jobs)."""
    jobs: list[dict[str, object]] = []
    params: dict[str, str | int] = {"limit": limit, **filters}
    with httpx.Client(timeout=30) as http:
        while True:
            page = http.get(f"{api_url}/jobs", params=params)
            assert page.status_code == 200, page.text
            jobs += page.json()["jobs"]
            if until_seen is not None and until_seen <= {job["job_id"] for job in jobs}:
                return jobs
            if page.json()["next_cursor"] is None:
                return jobs
            params["cursor"] = page.json()["next_cursor"]


@pytest.mark.every_emulator
def test_jobs_are_listed_newest_first_in_pages_and_filtered(local_stack: LocalStack) -> None:
    if not local_stack.workers:
        local_stack.start_worker()
    email = {"email": "user@example.com", "subject": "Listed", "body": "x"}
    mine = [submit(local_stack.api_url, "/send-email", email) for _ in range(5)]
    for job_id in mine:
        assert follow(local_stack.api_url, job_id).final["state"] == "SUCCESS"

    listed = every_page(local_stack.api_url, 2, until_seen=set(mine))
    ids = [job["job_id"] for job in listed]
    # Other jobs (the schedules') may sit between ours; ours come newest first, once each.
    assert [job_id for job_id in ids if job_id in mine] == list(reversed(mine))
    assert len(ids) == len(set(ids))
    created = [str(job["created_at"]) for job in listed]
    assert created == sorted(created, reverse=True)

    succeeded = every_page(
        local_stack.api_url, 3, until_seen=set(mine), state="SUCCESS", task="skylane.send_email"
    )
    assert set(mine) <= {job["job_id"] for job in succeeded}
    assert {(job["state"], job["task"]) for job in succeeded} == {("SUCCESS", "skylane.send_email")}
    failed = every_page(local_stack.api_url, 50, state="FAILURE", task="skylane.send_email")
    assert not set(mine) & {job["job_id"] for job in failed}

    detail = httpx.get(f"{local_stack.api_url}/jobs/{mine[0]}", timeout=10).json()
    assert detail["inputs"]["subject"] == "Listed"
    assert detail["attempts"] == 1
    assert detail["started_at"] <= detail["ended_at"]
    assert detail["result"]["status"] == "success"


def test_listing_refuses_what_it_does_not_know(local_stack: LocalStack) -> None:
    api = local_stack.api_url
    assert httpx.get(f"{api}/jobs?state=FINISHED", timeout=10).status_code == 422
    assert httpx.get(f"{api}/jobs?task=skylane.nothing", timeout=10).status_code == 422
    tampered = httpx.get(f"{api}/jobs?cursor=eyJkIjoiMjAyNi0xMy0wMSJ9", timeout=10)
    assert tampered.status_code == 400
    assert "Invalid cursor" in tampered.json()["detail"]
