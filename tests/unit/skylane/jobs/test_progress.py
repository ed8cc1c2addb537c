"""Progress writes are coalesced, and the first and last steps always land."""

from typing import Any

from skylane.jobs.progress import ProgressReporter


class _Task:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    def update_state(
        self, task_id: str | None = None, state: str | None = None, meta: Any = None
    ) -> None:
        assert state == "PROGRESS"
        self.updates.append(meta)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_at_most_one_write_per_interval_and_the_last_step_always() -> None:
    task, clock = _Task(), _Clock()
    progress = ProgressReporter(task, 100, min_interval=1.0, clock=clock)
    for step in range(1, 101):
        clock.now = step * 0.1  # ten steps a second
        progress.update(step)
    currents = [update["current"] for update in task.updates]
    assert currents[0] == 1
    assert currents[-1] == 100
    assert len(currents) == 11
    assert currents == sorted(currents)


def test_every_step_is_written_without_an_interval() -> None:
    task = _Task()
    progress = ProgressReporter(task, 3, min_interval=0)
    for step in (1, 2, 3):
        progress.update(step)
    assert [u["current"] for u in task.updates] == [1, 2, 3]
    assert all(u["total"] == 3 for u in task.updates)
