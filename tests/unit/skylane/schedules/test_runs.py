"""A runtime schedule's run claims: conditional writes decide, whoever comes second loses."""

from typing import Any

from skylane.jobs.store import JobStore
from skylane.schedules.overlap import Overlap
from skylane.schedules.runs import _BLOCKED, GOING, Run, RunState, ScheduleRuns
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


def test_buffer_one_holds_one_run_behind_the_going_one_and_drops_the_next(
    aws: dict[str, Any],
) -> None:
    assert runs().claim(GROUP, NAME, "run-1", Overlap.BUFFER_ONE).started
    accept("run-1")
    held = runs().claim(GROUP, NAME, "run-2", Overlap.BUFFER_ONE, {"task": "skylane.sync_data"})
    assert (held.started, held.held, held.blocked_by) == (False, True, "run-1")
    dropped = runs().claim(GROUP, NAME, "run-3", Overlap.BUFFER_ONE)
    assert (dropped.started, dropped.held, dropped.blocked_by) == (False, False, "run-1")
    state = runs().state(GROUP, NAME)
    assert state.held is not None
    assert (state.held.job_id, state.held.delivery) == ("run-2", {"task": "skylane.sync_data"})
    assert state.run_count == 1


def test_of_two_holds_from_the_same_reading_only_one_lands(aws: dict[str, Any]) -> None:
    store = runs()
    assert store.claim(GROUP, NAME, "run-1", Overlap.BUFFER_ONE).started
    accept("run-1")
    seen = store.state(GROUP, NAME)
    first = store._write(store._item(GROUP, NAME, seen, None, Run("run-2")), seen, "run-1", GOING)
    second = store._write(store._item(GROUP, NAME, seen, None, Run("run-3")), seen, "run-1", GOING)
    assert first is None
    # The second is handed the item as it is now: run-2 is held, so run-3 is dropped.
    assert isinstance(second, RunState)
    assert second.held == Run("run-2")
    assert runs().claim(GROUP, NAME, "run-3", Overlap.BUFFER_ONE).blocked_by == "run-1"


def test_a_run_is_not_held_behind_one_that_just_became_final(aws: dict[str, Any]) -> None:
    store = runs()
    assert store.claim(GROUP, NAME, "run-1", Overlap.BUFFER_ONE).started
    accept("run-1")
    seen = store.state(GROUP, NAME)
    JobStore(TABLE, 7).record_success("run-1", {"status": "success"})
    # Held now, no finisher would ever release it: the condition on run-1's record refuses it.
    refused = store._write(store._item(GROUP, NAME, seen, None, Run("run-2")), seen, "run-1", GOING)
    assert refused is _BLOCKED
    assert store.claim(GROUP, NAME, "run-2", Overlap.BUFFER_ONE).started
