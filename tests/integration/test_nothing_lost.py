"""Nothing lost, nothing run twice: long jobs, crashed workers, long retry countdowns.

The session's queues have a 4 s visibility timeout (conftest PARAMETERS), so these run in
seconds what production does in minutes.
"""

import time
from datetime import datetime

import httpx
import pytest

from tests.integration.client import follow, submit, upload
from tests.integration.conftest import VISIBILITY_TIMEOUT_SECONDS, LocalStack
from tests.integration.job_records import records
from tests.integration.log_files import starts_logged
from tests.integration.waiting import wait_until
from tests.integration.workers import stop_every_worker
from tests.samples import pdf_bytes, slow_pdf

pytestmark = pytest.mark.integration


def seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


@pytest.mark.timeout(600)
def test_a_job_longer_than_the_visibility_timeout_runs_once(local_stack: LocalStack) -> None:
    stop_every_worker(local_stack)
    key = upload(local_stack.api_url, "long.pdf", slow_pdf(), "application/pdf")
    job_id = submit(local_stack.api_url, "/process-document", {"file_path": key})
    # Two free slots: without the heartbeat the reappearing message would start again here.
    local_stack.start_worker({"WORKER_CONCURRENCY": "2"})

    assert follow(local_stack.api_url, job_id, timeout=400).final["state"] == "SUCCESS"

    record = records(local_stack, [job_id])[job_id]
    ran_for = seconds_between(record["started_at"]["S"], record["ended_at"]["S"])
    assert ran_for > 3 * VISIBILITY_TIMEOUT_SECONDS, f"the job took only {ran_for:.1f} s"
    assert int(record["attempts"]["N"]) == 1
    assert starts_logged(local_stack.logs_dir, job_id) == 1


PREFETCHING_WORKER = {"WORKER_CONCURRENCY": "4", "WORKER_PREFETCH_MULTIPLIER": "4"}


def test_a_killed_worker_loses_no_job(local_stack: LocalStack) -> None:
    stop_every_worker(local_stack)
    key = upload(
        local_stack.api_url, "crash.pdf", pdf_bytes(["some words here"] * 300), "application/pdf"
    )
    jobs = [submit(local_stack.api_url, "/process-document", {"file_path": key}) for _ in range(20)]
    # Four slots, prefetch multiplier 4 (WorkerPrefetchMultiplier, for short-job workers): the
    # worker holds up to 16 messages, 4 running and the rest prefetched; all of them come back
    # once it is killed.
    worker = local_stack.start_worker(PREFETCHING_WORKER)

    def running() -> list[str]:
        found = records(local_stack, jobs)
        return [job for job, item in found.items() if item["state"]["S"] in ("STARTED", "PROGRESS")]

    def held_by_the_worker() -> int:
        attributes = local_stack.client("sqs").get_queue_attributes(
            QueueUrl=local_stack.default_queue_url,
            AttributeNames=["ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessagesNotVisible"])

    wait_until(
        lambda: len(running()) >= 2 and held_by_the_worker() > 4,
        60,
        "jobs to be running and more messages prefetched than the worker has slots",
    )
    killed_while_running = running()
    worker.kill()  # the container dies: no warm shutdown, no ack, no reject
    local_stack.workers.remove(worker)

    survivor = local_stack.start_worker(PREFETCHING_WORKER)
    for job in jobs:
        assert follow(local_stack.api_url, job, timeout=120).final["state"] == "SUCCESS"

    found = records(local_stack, jobs)
    for job in jobs:
        attempts = int(found[job]["attempts"]["N"])
        logged = starts_logged(local_stack.logs_dir, job)
        # Nothing ran twice once the survivor took over.
        assert starts_logged(local_stack.logs_dir, job, f"{survivor.name}.log") <= 1, job
        # Every attempt counted is one a worker began. Each logs "job started", except one the
        # kill cut off between its STARTED write and that line.
        assert logged <= attempts <= logged + 1, (job, attempts, logged)
        assert attempts >= (2 if job in killed_while_running else 1), (job, attempts)


def queue_view(local_stack: LocalStack, name: str) -> dict[str, int]:
    view: dict[str, int] = httpx.get(f"{local_stack.api_url}/queues", timeout=10).json()[name]
    return view


def test_a_retry_countdown_longer_than_the_visibility_timeout_waits_on_sqs(
    local_stack: LocalStack,
) -> None:
    stop_every_worker(local_stack)
    countdown = 3 * VISIBILITY_TIMEOUT_SECONDS
    local_stack.start_worker({"RETRY_COUNTDOWN_SECONDS": str(countdown)})
    ses = local_stack.client("ses")
    sender = local_stack.stack.worker_env["EMAIL_SENDER"]
    ses.delete_identity(Identity=sender)
    try:
        job_id = submit(
            local_stack.api_url,
            "/send-email",
            {"email": "user@example.com", "subject": "Later", "body": "Hello"},
        )
        wait_until(
            lambda: records(local_stack, [job_id])[job_id]["state"]["S"] == "RETRY", 30, "the retry"
        )
    finally:
        ses.verify_email_identity(EmailAddress=sender)
    retried_at = time.monotonic()

    # The retried message waits on SQS, delayed; no worker holds it (an ETA would be in flight
    # for the whole countdown). A scheduled cleanup job may be in flight for a moment: allow
    # a few seconds, far less than the countdown.
    def waiting_on_sqs() -> bool:
        waiting = queue_view(local_stack, "default")
        return (waiting["delayed"], waiting["in_flight"]) == (1, 0)

    wait_until(waiting_on_sqs, 4, "the retry to wait on SQS, delayed and not in flight")

    assert follow(local_stack.api_url, job_id, timeout=60).final["state"] == "SUCCESS"
    assert time.monotonic() - retried_at > countdown - 2
    assert int(records(local_stack, [job_id])[job_id]["attempts"]["N"]) == 2
    assert starts_logged(local_stack.logs_dir, job_id) == 2
