"""POST /task/{id}/cancel and POST /job/{id}/cancel through the Mangum handler (2.0 and 1.0)."""

from uuid import uuid4

import pytest

from skylane.jobs.states import JobState
from skylane.jobs.store import JobStore
from tests.unit.functions.api.conftest import Invoke


def accepted_job() -> str:
    job_id = str(uuid4())
    JobStore.from_settings().create(
        job_id, task="skylane.process_video", kind="process_video", queue="default", inputs={}
    )
    return job_id


def test_cancel_task_revokes_a_queued_job_and_both_views_show_it(invoke: Invoke) -> None:
    job_id = accepted_job()

    answer = invoke("POST", f"/task/{job_id}/cancel")

    assert answer.status == 200
    assert answer.body == {"state": "REVOKED", "status": "Job was cancelled"}
    assert invoke("GET", f"/task/{job_id}").body == answer.body
    job = invoke("GET", f"/job/{job_id}").body
    assert job["status"] == "canceled"
    assert job["started_at"] is None
    assert job["ended_at"].endswith("Z")


def test_cancel_job_revokes_a_running_job_in_rq_shape(invoke: Invoke) -> None:
    store = JobStore.from_settings()
    job_id = accepted_job()
    store.mark_started(job_id, task="skylane.process_video", queue="default")
    store.record_progress(job_id, 12, 60, {})

    answer = invoke("POST", f"/job/{job_id}/cancel")

    assert answer.status == 200
    assert answer.body["job_id"] == job_id
    assert answer.body["status"] == "canceled"
    assert answer.body["started_at"] <= answer.body["ended_at"]
    record = store.get(job_id)
    assert record is not None
    assert (record.state, record.current) == (JobState.REVOKED, 12)


@pytest.mark.parametrize("view", ["task", "job"])
def test_cancelling_a_finished_job_is_409_and_changes_nothing(invoke: Invoke, view: str) -> None:
    store = JobStore.from_settings()
    job_id = accepted_job()
    store.mark_started(job_id, task="skylane.process_video", queue="default")
    store.record_success(job_id, {"status": "success"})

    answer = invoke("POST", f"/{view}/{job_id}/cancel")

    assert answer.status == 409
    assert answer.body["detail"] == (
        f"Job {job_id} already finished (SUCCESS); only a job that is queued, running or "
        "waiting to retry can be cancelled"
    )
    assert invoke("GET", f"/task/{job_id}").body["state"] == "SUCCESS"


def test_cancelling_twice_is_409(invoke: Invoke) -> None:
    job_id = accepted_job()
    assert invoke("POST", f"/task/{job_id}/cancel").status == 200
    again = invoke("POST", f"/job/{job_id}/cancel")
    assert again.status == 409
    assert "REVOKED" in again.body["detail"]


@pytest.mark.parametrize("view", ["task", "job"])
def test_cancelling_an_unknown_job_is_404(invoke: Invoke, view: str) -> None:
    job_id = str(uuid4())
    answer = invoke("POST", f"/{view}/{job_id}/cancel")
    assert answer.status == 404
    assert answer.body["detail"] == f"No job with id {job_id}"
    assert JobStore.from_settings().get(job_id) is None


@pytest.mark.parametrize("view", ["task", "job"])
def test_cancelling_a_malformed_id_is_422(invoke: Invoke, view: str) -> None:
    answer = invoke("POST", f"/{view}/not-a-job-id/cancel")
    assert answer.status == 422
    assert answer.body["detail"][0]["loc"] == ["path", f"{view}_id"]
