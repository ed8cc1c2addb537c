"""Celery's own key-value chord machinery, kept over the job table.

``JobTableKeyValues`` gives ``BaseKeyValueStoreBackend`` the store it asks for, so Celery's code
saves groups and counts chord parts as for Redis, with no ``chord_unlock`` polling; unlike
Redis's ``incr``, a part counts once however often it arrives (skylane/jobs/canvas_records.py).
"""

from typing import Any

from celery import states
from celery.backends.base import BaseKeyValueStoreBackend

from skylane.jobs.canvas_records import CanvasRecords
from skylane.jobs.contracts import TASKS
from skylane.jobs.states import JobState
from skylane.jobs.store import JobRecord


def chord_body_id(chord: Any) -> str | None:
    """The task id of a chord's body, from a part's ``request.chord`` (a signature dict)."""
    if not isinstance(chord, dict):
        return None
    task_id = (chord.get("options") or {}).get("task_id")
    return str(task_id) if task_id else None


def task_meta(record: JobRecord | None, task_id: str) -> dict[str, Any]:
    """Celery's task meta (before decoding) of a job record."""
    if record is None:
        return {"status": states.PENDING, "result": None, "task_id": task_id}
    if record.state is JobState.PROGRESS:
        result: Any = {"current": record.current, "total": record.total}
    elif record.state is JobState.FAILURE:
        result = {"exc_type": "Exception", "exc_message": [record.error or ""]}
    else:
        result = record.result
    return {"status": record.state.value, "result": result, "task_id": task_id}


class JobTableKeyValues(BaseKeyValueStoreBackend):  # type: ignore[misc]  # celery ships no types
    implements_incr = True
    supports_native_join = True
    # Keys are item ids (text), not Redis bytes.
    key_t = str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._canvas: CanvasRecords | None = None
        # The part whose return is being counted (incr is given only the chord's key). One
        # slot: Celery keeps a backend per thread, and a thread runs one task at a time.
        self._counting: Any = None
        # Celery's __init__ binds apply_chord to _apply_chord_incr; ours calls it too.
        self.__dict__.pop("apply_chord", None)

    @property
    def canvas(self) -> CanvasRecords:
        if self._canvas is None:
            self._canvas = CanvasRecords.from_settings()
        return self._canvas

    # ------------------------------------------------------------------ the key-value store
    def _is_group_key(self, key: str) -> bool:
        return str(key).startswith(str(self.group_keyprefix))

    def get(self, key: str) -> str | None:
        if self._is_group_key(key):
            return self.canvas.get_value(str(key))
        # Task results are read from their records (_get_task_meta_for); a chord's counter
        # is never read back by Celery.
        return None

    def set(self, key: str, value: Any) -> None:
        if not self._is_group_key(key):
            raise NotImplementedError(f"only saved groups are kept as values, not {key!r}")
        self.canvas.put_value(str(key), value if isinstance(value, str) else value.decode())

    def mget(self, keys: list[str]) -> dict[str, str]:
        """Encoded task meta of many tasks in one BatchGetItem per 100 (native join)."""
        prefix = str(self.task_keyprefix)
        ids = {str(key): str(key)[len(prefix) :] for key in keys}
        items = self.canvas.get_items(ids.values())
        found: dict[str, str] = {}
        for key, task_id in ids.items():
            item = items.get(task_id)
            if item is not None and "state" in item:
                meta = task_meta(JobRecord.from_item(item), task_id)
                if meta["status"] == states.FAILURE:
                    # A join raises the first failure it meets; Celery's report of which part
                    # it was needs a result cache (off by default), so the error says it.
                    record = JobRecord.from_item(item)
                    meta["result"]["exc_message"] = [
                        f"part {task_id} ({record.task}) failed: {record.error}"
                    ]
                found[key] = self.encode(meta)
        return found

    def delete(self, key: str) -> None:
        # A chord's counter stays on its body's record (the batch's progress); it expires
        # with the record.
        if self._is_group_key(key):
            self.canvas.delete_value(str(key))

    def expire(self, key: str, value: Any) -> None:
        """Every item expires through the table's TTL (expires_at) already."""

    def incr(self, key: str) -> int:
        request = self._counting
        body_id = chord_body_id(getattr(request, "chord", None))
        if request is None or body_id is None:
            raise RuntimeError(f"a chord counter ({key}) is only counted for a returning part")
        size = request.chord.get("chord_size")
        return self.canvas.count_part(body_id, request.id, int(size) if size else None)

    # ------------------------------------------------------------------ Celery's chord hooks
    def on_chord_part_return(self, request: Any, state: str, result: Any, **kwargs: Any) -> Any:
        self._counting = request
        try:
            return super().on_chord_part_return(request, state, result, **kwargs)
        finally:
            self._counting = None

    def apply_chord(self, header_result_args: Any, body: Any, **kwargs: Any) -> Any:
        """Celery's (save the header group), and the body's record with its parts, so a chord
        is followed by its body's id from the moment it is sent."""
        group_id, results = header_result_args[0], header_result_args[1]
        spec = TASKS.get(body.task)
        inputs = dict(body.kwargs or {})
        if body.args:
            inputs["args"] = list(body.args)
        self.canvas.record_chord(
            body.id,
            task=body.task,
            kind=spec.kind if spec else str(body.task).rsplit(".", 1)[-1],
            queue=str(body.options.get("queue") or self._routed_queue(body.task)),
            group_id=group_id,
            parts=[result.id for result in results],
            inputs=inputs,
        )
        return self._apply_chord_incr(header_result_args, body, **kwargs)

    def _routed_queue(self, task: str) -> str:
        route = (self.app.conf.task_routes or {}).get(task) or {}
        return str(route.get("queue") or self.app.conf.task_default_queue)

    def task_result_exists(self, task_id: str) -> bool:
        return self.canvas.get_items([task_id]) != {}
