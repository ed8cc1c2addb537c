"""Celery result backend over the job table.

Task code uses Celery's own API (``self.update_state``, return values, ``self.retry``, raised
errors); this backend turns each state Celery stores into one conditional update of the job's
record (skylane.jobs.store). ``AsyncResult(job_id)`` reads the same record back.
"""

from enum import Enum
from typing import Any

from celery import states
from celery.backends.base import SyncBackendMixin

from skylane.broker.canvas_backend import JobTableKeyValues, chord_body_id, task_meta
from skylane.jobs.message_inputs import message_inputs
from skylane.jobs.states import JobState
from skylane.jobs.store import JobRevoked, JobStore
from skylane.schedules.invocations import release_after


def describe_error(encoded: Any) -> str:
    """'ExcType: message' from Celery's JSON-encoded exception."""
    if isinstance(encoded, dict) and "exc_type" in encoded:
        message = encoded.get("exc_message")
        if isinstance(message, list | tuple):
            message = ", ".join(str(part) for part in message)
        return f"{encoded['exc_type']}: {message}" if message else str(encoded["exc_type"])
    return str(encoded)


class StartOutcome(Enum):
    """What the STARTED write found: the attempt may run, or its job is already over."""

    STARTED = "started"
    # Cancelled while queued.
    REVOKED = "revoked"
    # A final record (SUCCESS/FAILURE): this message is a redelivery of a finished job, e.g.
    # one whose acknowledgement was lost with its worker. Running it again would repeat its
    # side effects for nothing: its record can no longer change. Also a message whose attempt
    # a retry has superseded (JobStore.mark_started): its successor runs the job.
    FINISHED = "finished"


class JobStoreBackend(JobTableKeyValues, SyncBackendMixin):  # type: ignore[misc]
    """Canvas (groups, chords) comes from Celery's key-value machinery (skylane/broker/canvas_backend.py)."""

    persistent = True

    def __init__(self, app: Any, url: str | None = None, **kwargs: Any) -> None:
        super().__init__(app, url=url, **kwargs)
        self._job_store: JobStore | None = None
        # What the last STARTED write found (its job started, cancelled or already finished),
        # so the task body need not read the record again. One slot: Celery keeps a backend
        # per thread, and a pool process or thread runs one task at a time.
        self._start_outcome: tuple[str, StartOutcome] | None = None

    def pop_start_outcome(self, task_id: str) -> StartOutcome | None:
        """What the STARTED write just before found for this job; None if no STARTED was
        stored for it just before (eager runs, track_started off)."""
        outcome, self._start_outcome = self._start_outcome, None
        if outcome is None or outcome[0] != task_id:
            return None
        return outcome[1]

    @property
    def job_store(self) -> JobStore:
        if self._job_store is None:
            self._job_store = JobStore.from_settings()
        return self._job_store

    def _store_result(
        self,
        task_id: str,
        result: Any,
        state: str,
        traceback: str | None = None,
        request: Any = None,
        **kwargs: Any,
    ) -> Any:
        store = self.job_store
        if state == states.STARTED:
            delivery = getattr(request, "delivery_info", None) or {}
            try:
                # A job a producer outside skylane sent has no record yet: the STARTED
                # write gives it one from what the message carries.
                started = store.mark_started(
                    task_id,
                    task=getattr(request, "task", "") or "",
                    queue=delivery.get("routing_key", "") or "",
                    retries=int(getattr(request, "retries", 0) or 0),
                    raise_if_revoked=True,
                    inputs=message_inputs(
                        getattr(request, "args", None), getattr(request, "kwargs", None)
                    ),
                    parent_id=chord_body_id(getattr(request, "chord", None))
                    or getattr(request, "parent_id", None),
                    group_id=getattr(request, "group", None),
                )
            except JobRevoked:
                self._start_outcome = (task_id, StartOutcome.REVOKED)
            else:
                outcome = StartOutcome.STARTED if started else StartOutcome.FINISHED
                self._start_outcome = (task_id, outcome)
        elif state == JobState.PROGRESS:
            meta = result if isinstance(result, dict) else {}
            store.record_progress(
                task_id,
                current=int(meta.get("current", 0)),
                total=max(int(meta.get("total", 1)), 1),
                meta=meta,
            )
        elif state == states.RETRY:
            store.record_retry(task_id, describe_error(result))
        elif state == states.SUCCESS:
            release_after(store.finish(task_id, JobState.SUCCESS, result=result))
        elif state == states.FAILURE:
            error = describe_error(result)
            release_after(store.finish(task_id, JobState.FAILURE, error=error, traceback=traceback))
        return result

    def _get_task_meta_for(self, task_id: str) -> dict[str, Any]:
        meta = task_meta(self.job_store.get(task_id), task_id)
        return self.meta_from_decoded(meta)  # type: ignore[no-any-return]

    def _forget(self, task_id: str) -> None:
        raise NotImplementedError("job records expire through the table's TTL")
