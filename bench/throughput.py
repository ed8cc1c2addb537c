"""Throughput and latency: N jobs submitted through a system's API, each followed to SUCCESS.

Latency is from just before the job's POST to the completion time its worker stored (skylane's
``ended_at``, Celery's ``date_done``): both clocks are this machine's. Requests are counted
during the run too, to show how receives and deletes behave under load.
"""

import os
import resource
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.jobs import EMAIL, flatten
from bench.machine import STEAL_LIMIT, cpu_ticks, shares_between
from bench.request_counter import EMPTY_RECEIVE
from bench.stack import Bench, System

CLIENTS = 8


def parse_time(text: str) -> float:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of a process and its live descendants, from /proc (Linux).

    A pool process that exited during the run takes its time with it: Celery's prefork pool
    keeps its processes for the worker's life, so none does here.
    """
    total, pending = 0.0, [pid]
    ticks = os.sysconf("SC_CLK_TCK")
    while pending:
        current = pending.pop()
        proc = Path(f"/proc/{current}")
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in (proc / "task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, IndexError, ValueError):
            continue
    return total


def own_cpu_seconds() -> float:
    """This process's CPU: the bench's clients, which submit and poll."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_once(bench: Bench, system: System, jobs: int) -> dict[str, Any]:
    system.reset()
    worker_pid = system.worker.pid if system.worker else None
    worker_cpu = tree_cpu_seconds(worker_pid) if worker_pid else 0.0
    emulator_pid = bench.emulator.process.pid if bench.emulator.process else None
    emulator_cpu = tree_cpu_seconds(emulator_pid) if emulator_pid else 0.0
    bench_cpu = own_cpu_seconds()
    machine_ticks = cpu_ticks()
    submitted: dict[str, float] = {}

    # One client for all threads (httpx's Client is thread-safe): a client per submission
    # built an SSL context each time, which took a quarter of this process's CPU, the CPU the
    # emulator it shares with both systems needs.
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    with httpx.Client(timeout=60, limits=limits) as http:

        def submit_one(_: int) -> None:
            at = time.time()
            submitted[system.submit("/send-email", EMAIL, http)] = at

        started = time.time()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(submit_one, range(jobs)))
    submit_seconds = time.time() - started
    bench.wait_final(system, list(submitted), timeout=600)
    states = bench.states(system, list(submitted))
    failed = [job for job, (state, _) in states.items() if state != "SUCCESS"]
    ended = {job: parse_time(done) for job, (_, done) in states.items() if done}
    latencies = [ended[job] - submitted[job] for job in submitted if job in ended]
    elapsed = max(ended.values()) - min(submitted.values())
    time.sleep(2)  # the last acknowledgements
    worker_cpu = (tree_cpu_seconds(worker_pid) if worker_pid else 0.0) - worker_cpu
    emulator_cpu = (tree_cpu_seconds(emulator_pid) if emulator_pid else 0.0) - emulator_cpu
    bench_cpu = own_cpu_seconds() - bench_cpu
    machine = shares_between(machine_ticks, cpu_ticks())
    worker, _ = flatten(system.worker_counter.snapshot())
    api, _ = flatten(system.api_counter.snapshot())
    return {
        "jobs": jobs,
        "failed": len(failed),
        "submit_seconds": round(submit_seconds, 2),
        "elapsed_seconds": round(elapsed, 2),
        "jobs_per_second": round(jobs / elapsed, 2),
        "p50_latency_s": round(percentile(latencies, 0.50), 3),
        "p95_latency_s": round(percentile(latencies, 0.95), 3),
        # CPU per job: the worker's processes, the emulator's (serving both systems), and this
        # process's (the bench's clients, which submit and poll).
        "worker_cpu_ms_per_job": round(worker_cpu * 1000 / jobs, 1),
        "emulator_cpu_ms_per_job": round(emulator_cpu * 1000 / jobs, 1),
        "bench_cpu_ms_per_job": round(bench_cpu * 1000 / jobs, 1),
        # The machine's CPU during the run: how busy, and how much the hypervisor took.
        "machine_cpu_share": machine,
        "requests_per_job": {
            key: round(count / jobs, 3) for key, count in {**api, **worker}.items()
        },
        "worker_requests_per_job_by_operation": {
            key: round(count / jobs, 3) for key, count in worker.items()
        },
        # Milliseconds per job the worker's requests waited on the emulator, by operation
        # (empty long polls left out): the AWS share of a worker slot's time per job.
        "worker_ms_per_job_by_operation": {
            f"{service}:{operation}": round(seconds * 1000 / jobs, 1)
            for (service, operation), seconds in sorted(system.worker_counter.seconds().items())
            if operation != EMPTY_RECEIVE
        },
    }


def disturbed(result: dict[str, Any]) -> bool:
    share: dict[str, float] = result.get("machine_cpu_share") or {}
    return share.get("steal", 0.0) > STEAL_LIMIT


def measure_interleaved(
    bench: Bench,
    systems: list[System],
    jobs: int,
    runs: int,
    step: Callable[[str], None],
    max_rounds: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Rounds of one run of each system, alternating (A B A B ...), so a machine whose load
    changes during the bench slows both alike and their ratio stays meaningful.

    A round in which either run was disturbed (``disturbed``) is set aside and another is run,
    until ``runs`` rounds were undisturbed or ``max_rounds`` (twice ``runs``) were run. The
    figures come from the undisturbed rounds, or from every round when too few were; each
    system's summary says which (``undisturbed_only``) and keeps the runs set aside.
    """
    max_rounds = max_rounds or 2 * runs
    rounds: list[dict[str, dict[str, Any]]] = []
    while len(_undisturbed(rounds)) < runs and len(rounds) < max_rounds:
        number = len(rounds) + 1
        results: dict[str, dict[str, Any]] = {}
        for system in systems:
            step(
                f"throughput: {system.name}, {jobs} jobs, round {number}"
                f" ({runs} undisturbed wanted, {max_rounds} at most)"
            )
            results[system.name] = run_once(bench, system, jobs)
        rounds.append(results)
    undisturbed = _undisturbed(rounds)
    used = undisturbed if len(undisturbed) >= runs else list(range(len(rounds)))
    summaries: dict[str, dict[str, Any]] = {}
    for system in systems:
        summary = summarise([rounds[i][system.name] for i in used])
        summary["rounds_run"] = len(rounds)
        summary["undisturbed_only"] = used == undisturbed
        summary["set_aside"] = [
            {"round": i + 1, **_brief(rounds[i][system.name])}
            for i in range(len(rounds))
            if i not in used
        ]
        summaries[system.name] = summary
    return summaries


def _undisturbed(rounds: list[dict[str, dict[str, Any]]]) -> list[int]:
    return [i for i, results in enumerate(rounds) if not any(map(disturbed, results.values()))]


def round_ratios(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """The rate ratio of each alternating round (run i of the first system against run i of
    the second, taken minutes apart), with its min, median and max."""
    ratios = [
        a["jobs_per_second"] / b["jobs_per_second"]
        for a, b in zip(first["runs"], second["runs"], strict=True)
    ]
    return {
        "rounds": [round(r, 3) for r in ratios],
        **spread(ratios),
    }


def spread(values: list[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 3),
        "median": round(statistics.median(values), 3),
        "max": round(max(values), 3),
    }


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    by_rate = sorted(results, key=lambda r: r["jobs_per_second"])
    median = by_rate[(len(by_rate) - 1) // 2]
    return {
        **median,
        "jobs_per_second": statistics.median(r["jobs_per_second"] for r in results),
        "jobs_per_second_spread": spread([r["jobs_per_second"] for r in results]),
        "p50_latency_s": statistics.median(r["p50_latency_s"] for r in results),
        "p95_latency_s": statistics.median(r["p95_latency_s"] for r in results),
        "runs": [_brief(r) for r in results],
    }


def _brief(result: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "jobs_per_second",
        "p50_latency_s",
        "p95_latency_s",
        "failed",
        "worker_cpu_ms_per_job",
        "emulator_cpu_ms_per_job",
        "bench_cpu_ms_per_job",
        "machine_cpu_share",
    )
    return {key: result[key] for key in keys if key in result}
