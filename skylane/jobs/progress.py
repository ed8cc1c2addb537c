"""Progress reporting that costs at most one job-store write per interval.

Task code calls ``progress.update(current)`` after each real step (where Celery code calls
``self.update_state(state='PROGRESS', ...)``); writes in between are coalesced. The first step
and the last step are always written, so a client sees the job move and reach its total.
"""

import time
from collections.abc import Callable
from typing import Any, Protocol

from skylane.core.settings import get_settings
from skylane.jobs.states import JobState


class StateUpdater(Protocol):
    def update_state(
        self, task_id: str | None = None, state: str | None = None, meta: Any = None
    ) -> None: ...


class ProgressReporter:
    def __init__(
        self,
        task: StateUpdater,
        total: int,
        *,
        min_interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.task = task
        self.total = max(total, 1)
        self.min_interval = (
            get_settings().progress_min_interval_seconds if min_interval is None else min_interval
        )
        self.clock = clock
        self.written = 0
        self._last_write: float | None = None

    def update(self, current: int, **extra: Any) -> None:
        current = min(max(current, 0), self.total)
        now = self.clock()
        due = self._last_write is None or now - self._last_write >= self.min_interval
        if due or current == self.total:
            self.task.update_state(
                state=JobState.PROGRESS.value,
                meta={"current": current, "total": self.total, **extra},
            )
            self._last_write = now
            self.written += 1
