"""Chords counted natively in the job table: the body is sent once, when the last part returns."""

import json
from typing import Any
from uuid import uuid4

import boto3
from celery import chord, group, states
from celery.result import GroupResult

from skylane.broker.celery_app import get_celery_app
from skylane.jobs.states import JobState
from skylane.jobs.store import JobStore


class _PartRequest:
    """What Celery's tracer hands the backend for a finished chord part."""

    def __init__(self, task_id: str, group_id: str, chord_sig: dict[str, Any]) -> None:
        self.id = task_id
        self.group = group_id
        self.chord = chord_sig
        self.task = "skylane.send_notification"
        self.delivery_info = {"routing_key": "default"}
        self.retries = 0
        self.ignore_result = False
        self.errbacks = None
        self.chain = None


def _messages(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return found
        found.extend(batch)
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _task_names(messages: list[dict[str, Any]]) -> list[str]:
    import base64

    names = []
    for message in messages:
        envelope = json.loads(base64.b64decode(message["Body"]))
        names.append(envelope["headers"]["task"])
    return names


def _applied_chord(parts: int) -> tuple[str, str, list[str], dict[str, Any]]:
    """A chord of ``parts`` notifications with a report body, sent: its ids and body signature."""
    app = get_celery_app()
    header = group(
        app.signature("skylane.send_notification", kwargs={"user_id": i, "message": "hi"})
        for i in range(parts)
    )
    body = app.signature("skylane.process_batch")
    result = chord(header, body).apply_async()
    group_result = result.parent
    return result.id, group_result.id, [r.id for r in group_result.results], result


def test_the_last_part_sends_the_body_once_and_a_repeated_part_counts_once(
    aws: dict[str, Any],
) -> None:
    app = get_celery_app()
    body_id, group_id, part_ids, _ = _applied_chord(3)
    sent = _messages(aws["queues"]["default"])
    assert _task_names(sent).count("skylane.send_notification") == 3
    body_record = JobStore.from_settings().get(body_id)
    assert body_record is not None
    assert body_record.state is JobState.PENDING
    assert body_record.parts == part_ids
    assert body_record.chord_size == 3
    for part_id in part_ids:
        part = JobStore.from_settings().get(part_id)
        assert part is not None
        assert part.parent_id == body_id
        assert part.group_id == group_id

    chord_sig = dict(app.signature("skylane.process_batch").set(task_id=body_id))
    chord_sig["chord_size"] = 3
    backend = app.backend
    for part_id in part_ids[:2]:
        request = _PartRequest(part_id, group_id, chord_sig)
        backend.mark_as_done(part_id, {"status": "success", "part": part_id}, request=request)
    # The second part's message delivered again: it returns again, and counts nothing.
    again = _PartRequest(part_ids[1], group_id, chord_sig)
    backend.mark_as_done(part_ids[1], {"status": "success"}, request=again)
    assert _messages(aws["queues"]["default"]) == []
    progress = JobStore.from_settings().get(body_id)
    assert progress is not None
    assert progress.chord_done == 2

    last = _PartRequest(part_ids[2], group_id, chord_sig)
    backend.mark_as_done(part_ids[2], {"status": "success", "part": part_ids[2]}, request=last)
    backend.mark_as_done(part_ids[2], {"status": "success"}, request=last)
    bodies = _messages(aws["queues"]["default"])
    assert _task_names(bodies) == ["skylane.process_batch"]
    assert not [m for m in bodies if "chord_unlock" in m["Body"]]


def test_a_failed_part_fails_the_body_naming_the_part(aws: dict[str, Any]) -> None:
    app = get_celery_app()
    body_id, group_id, part_ids, _ = _applied_chord(2)
    chord_sig = dict(app.signature("skylane.process_batch").set(task_id=body_id))
    chord_sig["chord_size"] = 2
    backend = app.backend
    backend.mark_as_done(
        part_ids[0], {"status": "success"}, request=_PartRequest(part_ids[0], group_id, chord_sig)
    )
    backend.mark_as_failure(
        part_ids[1],
        KeyError("no such object"),
        request=_PartRequest(part_ids[1], group_id, chord_sig),
    )
    body = JobStore.from_settings().get(body_id)
    assert body is not None
    assert body.state is JobState.FAILURE
    assert body.error is not None
    assert part_ids[1] in body.error
    assert "skylane.process_batch" not in _task_names(_messages(aws["queues"]["default"]))


def test_a_group_is_saved_and_restored(aws: dict[str, Any]) -> None:
    app = get_celery_app()
    ids = [str(uuid4()) for _ in range(3)]
    saved = app.GroupResult(str(uuid4()), [app.AsyncResult(i) for i in ids])
    saved.save()
    restored = GroupResult.restore(saved.id, app=app)
    assert restored is not None
    assert [r.id for r in restored.results] == ids
    app.backend.store_result(ids[0], {"n": 1}, states.SUCCESS)
    assert restored.completed_count() == 1
    restored.delete()
    assert GroupResult.restore(saved.id, app=app) is None
