"""Celery code as users bring it, through the real parts: producers outside skylane's API,
chains, groups and chords over the emulator's SQS, run by the worker and the light lane.

This test process is the user's own code: the environment the template gives the API (its
queue URLs, its table), its credentials, and either skylane's shared Celery app or a Celery
app of its own.
"""

import re
import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from celery import Celery, chain, chord, group
from celery.app.amqp import task_message
from celery.result import GroupResult
from celery.signals import before_task_publish

from functions.api.batches import MAX_BATCH_FILES
from skylane.broker.celery_app import get_celery_app
from skylane.core.aws import reset_clients
from skylane.core.settings import get_settings
from skylane.jobs.states import JobState
from skylane.jobs.store import JobRecord, JobStore
from tests.integration.client import follow, job_view
from tests.integration.conftest import LocalStack
from tests.integration.waiting import wait_until

pytestmark = pytest.mark.integration

CHORD_PARTS = 200
# Parts whose message is sent a second time, as SQS's at-least-once delivery may.
REDELIVERED_PARTS = 20


def _clear_caches() -> None:
    get_settings.cache_clear()
    reset_clients()
    get_celery_app.cache_clear()


@pytest.fixture
def user_code(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Celery]:
    """skylane's shared app in this process, configured as the API's environment is."""
    for name, value in {**local_stack.stack.api_env, **local_stack.component_env("api")}.items():
        monkeypatch.setenv(name, value)
    _clear_caches()
    app = get_celery_app()
    yield app
    _clear_caches()


def _record(job_id: str) -> JobRecord:
    record = JobStore.from_settings().get(job_id)
    assert record is not None, f"no record for {job_id}"
    return record


def _final(job_ids: list[str], timeout: float) -> dict[str, JobRecord]:
    store = JobStore.from_settings()
    found: dict[str, JobRecord] = {}

    def all_final() -> bool:
        for job_id in job_ids:
            if job_id not in found:
                record = store.get(job_id)
                if record is not None and record.state in (
                    JobState.SUCCESS,
                    JobState.FAILURE,
                    JobState.REVOKED,
                ):
                    found[job_id] = record
        return len(found) == len(job_ids)

    wait_until(all_final, timeout, f"{len(job_ids)} jobs to finish", interval=0.5)
    return found


def _component_log(local_stack: LocalStack) -> str:
    names = [worker.name for worker in local_stack.workers] + ["light"]
    return "".join(local_stack.logs.path(name).read_text() for name in names)


def _started_lines(local_stack: LocalStack, job_id: str) -> int:
    return len(re.findall(rf'"job started".*"job_id":"{job_id}"', _component_log(local_stack)))


def test_a_plain_celery_producer_sends_by_name_and_the_job_is_recorded_in_full(
    local_stack: LocalStack, user_code: Celery
) -> None:
    env = local_stack.stack.api_env
    producer = Celery("their-app", broker="sqs://")
    producer.conf.update(
        broker_transport_options={
            "region": env.get("AWS_REGION", "us-east-1"),
            "predefined_queues": {"default": {"url": local_stack.default_queue_url}},
        },
        task_default_queue="default",
    )
    job_id = str(uuid4())
    kwargs = {"email": "user@example.com", "subject": "Hi", "body": "from their own code"}
    producer.send_task("skylane.send_email", kwargs=kwargs, task_id=job_id, queue="default")

    followed = follow(local_stack.api_url, job_id, timeout=60)
    assert followed.final["state"] == "SUCCESS"
    # Read back through skylane's backend, as Celery code does.
    result = user_code.AsyncResult(job_id)
    assert result.get(timeout=10)["email"] == "user@example.com"
    assert result.state == "SUCCESS"
    detail = httpx.get(f"{local_stack.api_url}/jobs/{job_id}?logs=false", timeout=10).json()
    assert (detail["kind"], detail["queue"], detail["inputs"]) == ("send_email", "default", kwargs)
    assert detail["created_at"]
    # A task-filtered page reads each of today's 10 by_day shards and their records; on moto,
    # with the session's other tests' thousand jobs in the table and a second test worker
    # running, that took over 10 s in a fresh-clone CI (about 2.4 s on a quiet machine).
    listed = httpx.get(
        f"{local_stack.api_url}/jobs", params={"task": "skylane.send_email"}, timeout=60
    ).json()["jobs"]
    assert job_id in [job["job_id"] for job in listed]


def test_delay_from_user_code_is_recorded_at_once_and_read_back_with_get(
    local_stack: LocalStack, user_code: Celery
) -> None:
    from functions.tasks.celery_tasks import send_email

    result = send_email.delay(email="user@example.com", subject="Hi", body="delayed")
    # Recorded as it was sent: /task answers before any worker has seen it.
    pending = httpx.get(f"{local_stack.api_url}/task/{result.id}", timeout=10)
    assert pending.status_code == 200
    assert result.get(timeout=60)["status"] == "success"
    assert result.state == "SUCCESS"
    assert result.info["email"] == "user@example.com"
    record = _record(result.id)
    assert (record.kind, record.queue, record.attempts) == ("send_email", "default", 1)

    unknown = str(uuid4())
    # Celery's answer for an id it never saw; the API's is a 404.
    assert user_code.AsyncResult(unknown).state == "PENDING"
    assert httpx.get(f"{local_stack.api_url}/task/{unknown}", timeout=10).status_code == 404


def test_a_chain_runs_across_the_light_lane_and_the_worker_in_order(
    local_stack: LocalStack, user_code: Celery
) -> None:
    from functions.tasks.celery_tasks import send_email, send_notification

    last = chain(
        send_notification.si(user_id=7, message="first"),
        send_email.si(email="user@example.com", subject="Then", body="second"),
    ).apply_async()
    first_id = last.parent.id
    assert last.get(timeout=60)["status"] == "success"
    first, second = _record(first_id), _record(last.id)
    assert (first.state, first.queue) == (JobState.SUCCESS, "light")
    assert (second.state, second.queue) == (JobState.SUCCESS, "default")
    assert second.parent_id == first_id
    assert first.started_at is not None
    assert first.ended_at is not None
    assert second.started_at is not None
    # Sent by the first's run, then run. Celery sends the next link before it stores the
    # first's result (celery/app/trace.py), so the second may start before the first's end.
    assert first.started_at <= second.created_at <= second.started_at
    assert second.created_at <= first.ended_at


def test_a_group_is_saved_and_restored_by_id(local_stack: LocalStack, user_code: Celery) -> None:
    from functions.tasks.celery_tasks import send_email

    sent = group(
        send_email.si(email=f"user{n}@example.com", subject="Hi", body="grouped") for n in range(3)
    ).apply_async()
    sent.save()

    restored = GroupResult.restore(sent.id, app=user_code)
    assert restored is not None
    assert [r.id for r in restored.results] == [r.id for r in sent.results]
    results = restored.join(timeout=60)
    assert sorted(r["email"] for r in results) == [f"user{n}@example.com" for n in range(3)]
    assert all(_record(r.id).group_id == sent.id for r in sent.results)


def test_a_chord_of_200_parts_runs_its_body_once_even_with_parts_delivered_twice(
    local_stack: LocalStack, user_code: Celery
) -> None:
    from functions.tasks.celery_tasks import process_batch, send_notification

    # Every part message as it leaves, to send some of them again exactly as they were.
    sent: list[tuple[dict[str, Any], Any, dict[str, Any], str]] = []

    def keep(body: Any, headers: dict[str, Any], properties: dict[str, Any], **kw: Any) -> None:
        if headers.get("task") == "skylane.send_notification":
            sent.append((headers, body, properties, kw["routing_key"]))

    before_task_publish.connect(keep, weak=False, dispatch_uid="test.keep_parts")
    started = time.monotonic()
    try:
        body = chord(
            send_notification.si(user_id=n, message=f"part {n}") for n in range(CHORD_PARTS)
        )(process_batch.s())
    finally:
        before_task_publish.disconnect(dispatch_uid="test.keep_parts")
    assert len(sent) == CHORD_PARTS
    with user_code.producer_or_acquire() as producer:
        for headers, payload, properties, queue in sent[:REDELIVERED_PARTS]:
            user_code.amqp.send_task_message(
                producer,
                headers["task"],
                task_message(headers, properties, payload, None),
                queue=queue,
                routing_key=queue,
            )

    summary = body.get(timeout=180)
    elapsed = time.monotonic() - started
    assert summary["files"] == CHORD_PARTS
    batch = _record(body.id)
    assert (batch.chord_done, batch.chord_size, batch.attempts) == (CHORD_PARTS, CHORD_PARTS, 1)
    parts = [headers["id"] for headers, *_ in sent]
    assert batch.parts == parts
    finals = _final(parts, timeout=60)
    assert {record.state for record in finals.values()} == {JobState.SUCCESS}
    assert all(record.parent_id == body.id for record in finals.values())
    # Exactly one body run, and Celery's polling chord_unlock never sent.
    wait_until(lambda: _started_lines(local_stack, body.id) >= 1, 10, "the body's log line")
    assert _started_lines(local_stack, body.id) == 1
    assert "chord_unlock" not in _component_log(local_stack)

    # Each message sent twice really arrived twice: run twice, or dropped as a redelivery.
    def received_twice(part_id: str) -> bool:
        dropped = re.findall(
            rf'"job already finished; redelivered message dropped".*"job_id":"{part_id}"',
            _component_log(local_stack),
        )
        return _started_lines(local_stack, part_id) + len(dropped) == 2

    redelivered = parts[:REDELIVERED_PARTS]
    wait_until(lambda: all(map(received_twice, redelivered)), 60, "the copies to be received")
    assert _record(body.id).attempts == 1
    print(f"chord of {CHORD_PARTS} parts: sent and finished in {elapsed:.1f} s")


def test_a_failed_part_fails_the_body_naming_it_and_link_error_runs(
    local_stack: LocalStack, user_code: Celery
) -> None:
    from functions.tasks.celery_tasks import process_batch, process_large_file, send_notification

    key = f"uploads/{uuid4()}/present.txt"
    local_stack.client("s3").put_object(Bucket=local_stack.uploads_bucket, Key=key, Body=b"a\n")
    missing = f"uploads/{uuid4()}/never-uploaded.txt"
    errback_id = str(uuid4())
    body = chord([process_large_file.si(file_key=key), process_large_file.si(file_key=missing)])(
        process_batch.s().on_error(
            send_notification.si(user_id=1, message="batch failed").set(task_id=errback_id)
        )
    )
    failed = follow(local_stack.api_url, body.id, timeout=60)
    assert failed.final["state"] == "FAILURE"
    bad_part = _record(body.id).parts[1]
    assert bad_part in failed.final["error"]
    assert _record(bad_part).state is JobState.FAILURE
    # Celery's link_error of the body ran (on the light lane).
    assert follow(local_stack.api_url, errback_id, timeout=60).final["state"] == "SUCCESS"
    assert _started_lines(local_stack, body.id) == 0


def _upload_directly(local_stack: LocalStack, count: int, data: bytes) -> list[str]:
    s3 = local_stack.client("s3")
    keys = [f"uploads/{uuid4()}/file-{n}.txt" for n in range(count)]
    for key in keys:
        s3.put_object(Bucket=local_stack.uploads_bucket, Key=key, Body=data)
    return keys


def test_process_batch_end_to_end(local_stack: LocalStack) -> None:
    keys = _upload_directly(local_stack, 3, b"one\ntwo\nthree\n")
    answer = httpx.post(
        f"{local_stack.api_url}/process-batch", json={"file_paths": keys}, timeout=30
    )
    assert answer.status_code == 202, answer.text
    batch_id, parts = answer.json()["task_id"], answer.json()["parts"]

    done = follow(local_stack.api_url, batch_id, timeout=90)
    assert done.final["state"] == "SUCCESS"
    assert done.final["result"] == {
        "status": "success",
        "files": 3,
        "failures": 0,
        "total_size_bytes": 3 * 14,
        "total_lines": 9,
    }
    assert job_view(local_stack.api_url, batch_id)["status"] == "finished"
    detail = httpx.get(f"{local_stack.api_url}/jobs/{batch_id}?logs=false", timeout=10).json()
    assert (detail["parts"], detail["parts_done"]) == (parts, 3)
    for part_id in parts:
        part = httpx.get(f"{local_stack.api_url}/jobs/{part_id}?logs=false", timeout=10).json()
        assert (part["state"], part["parent_id"]) == ("SUCCESS", batch_id)


def test_cancelling_a_batch_revokes_the_parts_not_started(
    local_stack: LocalStack, user_code: Celery
) -> None:
    keys = _upload_directly(local_stack, MAX_BATCH_FILES, b"x\n" * 1000)
    answer = httpx.post(
        f"{local_stack.api_url}/process-batch", json={"file_paths": keys}, timeout=60
    )
    assert answer.status_code == 202, answer.text
    batch_id, parts = answer.json()["task_id"], answer.json()["parts"]
    cancelled = httpx.post(f"{local_stack.api_url}/task/{batch_id}/cancel", timeout=60)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "REVOKED"

    finals = _final(parts, timeout=90)
    not_started = [p for p, r in finals.items() if r.state is JobState.REVOKED and not r.started_at]
    assert not_started, "every part had started before the cancel; nothing was left to revoke"

    def skipped_by_a_worker() -> bool:
        log = _component_log(local_stack)
        return all(
            re.search(rf'"job cancelled before it started".*"job_id":"{p}"', log)
            for p in not_started
        )

    # Each one's message still reached a worker, which ran nothing.
    wait_until(skipped_by_a_worker, 90, "the workers to skip the cancelled parts", interval=0.5)
    assert all(_started_lines(local_stack, p) == 0 for p in not_started)
    batch = _record(batch_id)
    assert (batch.state, batch.started_at) == (JobState.REVOKED, None)
    assert {r.state for r in finals.values()} <= {JobState.REVOKED, JobState.SUCCESS}
