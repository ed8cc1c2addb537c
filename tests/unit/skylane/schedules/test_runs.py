"""A runtime schedule's run claims: conditional writes decide, whoever comes second loses."""

from typing import Any

from skylane.jobs.store import JobStore
from skylane.schedules.runs import Overlap, RunState, ScheduleRuns
from tests.unit.conftest import TABLE

GROUP, NAME = "skylane-test-schedules", "nightly"


def runs() -> ScheduleRuns:
    return ScheduleRuns(JobStore(TABLE, 7))


def accept(job_id: str) -> None:
    JobStore(TABLE, 7).create(
        job_id, task="skylane.sync_data", kind="sync_data", queue="default", inputs={}
    )


def test_skip_blocks_while_the_previous_run_is_queued_and_not_once_it_finished(
    aws: dict[str, Any],
) -> None:
    assert runs().claim(GROUP, NAME, "run-1", Overlap.SKIP).started
    accept("run-1")
    blocked = runs().claim(GROUP, NAME, "run-2", Overlap.SKIP)
    assert not blocked.started
    assert blocked.blocked_by == "run-1"
    JobStore(TABLE, 7).record_success("run-1", {"status": "success"})
    assert runs().claim(GROUP, NAME, "run-3", Overlap.SKIP).started
    state = runs().state(GROUP, NAME)
    assert state.run_count == 2
    assert state.recent_runs == ("run-3", "run-1")


def test_a_second_delivery_of_the_same_run_is_a_duplicate(aws: dict[str, Any]) -> None:
    assert runs().claim(GROUP, NAME, "run-1", Overlap.ALLOW).started
    again = runs().claim(GROUP, NAME, "run-1", Overlap.ALLOW)
    assert again.duplicate
    assert runs().state(GROUP, NAME).run_count == 1


def test_of_two_writes_from_the_same_reading_only_one_lands(aws: dict[str, Any]) -> None:
    store = runs()
    assert store._put(GROUP, NAME, "run-1", RunState()) is None
    seen = store.state(GROUP, NAME)
    assert store._put(GROUP, NAME, "run-2", seen) is None
    # A second delivery that read the same version: refused, and handed the item as it is now.
    now = store._put(GROUP, NAME, "run-3", seen)
    assert now is not None
    assert now.current_job == "run-2"
    assert store.state(GROUP, NAME).run_count == 2
