"""Throughput is reported per alternating round, with min / median / max, from rounds the
machine did not disturb."""

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from bench import throughput
from bench.throughput import round_ratios, summarise


def run(rate: float, steal: float = 0.0) -> dict[str, Any]:
    return {
        "jobs_per_second": rate,
        "p50_latency_s": 1.0,
        "p95_latency_s": 2.0,
        "failed": 0,
        "worker_cpu_ms_per_job": 1.0,
        "emulator_cpu_ms_per_job": 1.0,
        "bench_cpu_ms_per_job": 1.0,
        "machine_cpu_share": {"busy": 0.5, "steal": steal},
    }


def test_each_round_is_compared_with_the_run_beside_it() -> None:
    skylane = summarise([run(12.0), run(6.0), run(9.0)])
    naive = summarise([run(10.0), run(5.0), run(10.0)])
    ratio = round_ratios(skylane, naive)
    assert ratio["rounds"] == [1.2, 1.2, 0.9]
    assert (ratio["min"], ratio["median"], ratio["max"]) == (0.9, 1.2, 1.2)
    assert skylane["jobs_per_second_spread"] == {"min": 6.0, "median": 9.0, "max": 12.0}


def scripted(monkeypatch: pytest.MonkeyPatch, runs: list[dict[str, Any]]) -> None:
    """run_once answers these, in order (skylane, naive, skylane, naive, ...)."""
    answers: Iterator[dict[str, Any]] = iter(runs)
    monkeypatch.setattr(throughput, "run_once", lambda bench, system, jobs: next(answers))


SYSTEMS: list[Any] = [SimpleNamespace(name="skylane"), SimpleNamespace(name="naive")]


def test_a_round_the_machine_disturbed_is_set_aside_and_run_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stolen = throughput.STEAL_LIMIT + 0.2
    rounds = [
        (run(20.0), run(8.0)),
        (run(7.0, steal=stolen), run(8.0)),
        (run(18.0), run(8.0)),
        (run(22.0), run(8.0, steal=stolen)),  # disturbed too: the naive port's run
        (run(21.0), run(8.0)),
    ]
    scripted(monkeypatch, [result for pair in rounds for result in pair])
    result = throughput.measure_interleaved(None, SYSTEMS, 500, 3, lambda _: None)  # type: ignore[arg-type]

    skylane, naive = result["skylane"], result["naive"]
    assert skylane["rounds_run"] == 5
    assert skylane["undisturbed_only"]
    assert [r["jobs_per_second"] for r in skylane["runs"]] == [20.0, 18.0, 21.0]
    assert [r["round"] for r in skylane["set_aside"]] == [2, 4]
    assert round_ratios(skylane, naive)["median"] == 2.5


def test_with_too_few_undisturbed_rounds_every_round_counts_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stolen = throughput.STEAL_LIMIT + 0.2
    scripted(monkeypatch, [run(9.0, steal=stolen), run(8.0)] * 6)
    result = throughput.measure_interleaved(None, SYSTEMS, 500, 3, lambda _: None)  # type: ignore[arg-type]

    assert result["skylane"]["rounds_run"] == 6
    assert not result["skylane"]["undisturbed_only"]
    assert len(result["skylane"]["runs"]) == 6
    assert result["skylane"]["set_aside"] == []
