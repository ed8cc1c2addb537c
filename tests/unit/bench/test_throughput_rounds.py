"""Throughput is reported per alternating round, with min / median / max."""

from bench.throughput import round_ratios, summarise


def run(rate: float) -> dict[str, float]:
    return {
        "jobs_per_second": rate,
        "p50_latency_s": 1.0,
        "p95_latency_s": 2.0,
        "failed": 0,
        "worker_cpu_ms_per_job": 1.0,
        "emulator_cpu_ms_per_job": 1.0,
        "bench_cpu_ms_per_job": 1.0,
        "machine_cpu_share": {"busy": 0.5, "steal": 0.0},
    }


def test_each_round_is_compared_with_the_run_beside_it() -> None:
    skylane = summarise([run(12.0), run(6.0), run(9.0)])
    naive = summarise([run(10.0), run(5.0), run(10.0)])
    ratio = round_ratios(skylane, naive)
    assert ratio["rounds"] == [1.2, 1.2, 0.9]
    assert (ratio["min"], ratio["median"], ratio["max"]) == (0.9, 1.2, 1.2)
    assert skylane["jobs_per_second_spread"] == {"min": 6.0, "median": 9.0, "max": 12.0}
