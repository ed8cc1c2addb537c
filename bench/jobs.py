"""AWS requests per job and idle requests per hour, as the emulator counted them (bench.emulator)."""

import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.request_counter import EMPTY_RECEIVE
from bench.stack import Bench, System

FILE_SIZE = 10 * 1024 * 1024  # 10 chunks of 1 MiB
EMAIL = {"email": "user@example.com", "subject": "Bench", "body": "Hello from the bench"}
# After a job is final its message is still to be deleted (acks come after the result).
SETTLE_SECONDS = 2.0

Counts = dict[str, int]
# DynamoDB units by kind ("write", "read") and table or index (bench.dynamodb_meter).
Units = dict[str, dict[str, float]]


@dataclass
class CaseResult:
    """One case on one system: the median run's requests, by component and service:operation."""

    api: Counts
    worker: Counts
    # Empty long polls that happened to fall in the job's window: idle cost, not the job's.
    empty_receives: int
    runs: list[int]
    api_units: Units = field(default_factory=dict)
    worker_units: Units = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.api.values()) + sum(self.worker.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "api_total": sum(self.api.values()),
            "worker_total": sum(self.worker.values()),
            "api": self.api,
            "worker": self.worker,
            "empty_receives_in_window": self.empty_receives,
            "totals_of_runs": self.runs,
            "dynamodb_units": {"api": self.api_units, "worker": self.worker_units},
        }


def flatten(counter: Counter[tuple[str, str]]) -> tuple[Counts, int]:
    counts = {f"{s}:{op}": n for (s, op), n in sorted(counter.items()) if op != EMPTY_RECEIVE}
    empty = sum(n for (_, op), n in counter.items() if op == EMPTY_RECEIVE)
    return counts, empty


def count_one(bench: Bench, system: System, run_job: Callable[[], str]) -> CaseResult:
    system.reset()
    job_id = run_job()
    bench.wait_final(system, [job_id])
    time.sleep(SETTLE_SECONDS)
    api, api_empty = flatten(system.api_counter.snapshot())
    worker, worker_empty = flatten(system.worker_counter.snapshot())
    state = bench.states(system, [job_id])[job_id][0]
    if state != "SUCCESS":
        raise RuntimeError(f"{system.name}: bench job {job_id} ended {state}")
    return CaseResult(
        api,
        worker,
        api_empty + worker_empty,
        [],
        system.api_counter.units(),
        system.worker_counter.units(),
    )


def median_case(results: list[CaseResult]) -> CaseResult:
    totals = [r.total for r in results]
    median = statistics.median_low(totals)
    chosen = next(r for r in results if r.total == median)
    return CaseResult(
        chosen.api,
        chosen.worker,
        chosen.empty_receives,
        totals,
        chosen.api_units,
        chosen.worker_units,
    )


def file_job(bench: Bench, system: System) -> Callable[[], str]:
    key = bench.upload(FILE_SIZE)
    return lambda: system.submit("/process-file", {"file_path": key})


def email_job(system: System) -> Callable[[], str]:
    return lambda: system.submit("/send-email", EMAIL)


def retried_email_job(bench: Bench, system: System) -> Callable[[], str]:
    """send_email while SES refuses the sender; verified again once the job is in RETRY."""
    ses = bench.client("ses")
    sender = bench.stack.worker_env["EMAIL_SENDER"]

    def run() -> str:
        ses.delete_identity(Identity=sender)
        try:
            job_id = system.submit("/send-email", EMAIL)
            deadline = time.monotonic() + 60
            while bench.states(system, [job_id]).get(job_id, ("", None))[0] != "RETRY":
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{system.name}: job {job_id} never reached RETRY")
                time.sleep(0.05)
        finally:
            ses.verify_email_identity(EmailAddress=sender)
        return job_id

    return run


CASES = ("send_email", "process_file (10 progress steps)", "send_email retried once")


def attach_meters(bench: Bench, system: System) -> None:
    """Count DynamoDB units of the system's requests from now on (bench.dynamodb_meter)."""
    for counter in (system.api_counter, system.worker_counter):
        counter.meter(on=True)


def detach_meters(system: System) -> None:
    for counter in (system.api_counter, system.worker_counter):
        counter.meter(on=False)


def measure_cases(bench: Bench, system: System, runs: int) -> dict[str, CaseResult]:
    attach_meters(bench, system)
    try:
        return _measure_cases(bench, system, runs)
    finally:
        detach_meters(system)


LISTED_JOBS = 25


def measure_reads(bench: Bench, system: System) -> dict[str, Any]:
    """skylane's API reads beyond a job's own: one dashboard page of 25 jobs (GET /jobs, what
    the dashboard polls every 2 s), one Celery-view poll (GET /task/{id}) and one detail
    without logs (GET /jobs/{id}?logs=false), with their DynamoDB units."""
    jobs = [system.submit("/send-email", EMAIL) for _ in range(LISTED_JOBS)]
    bench.wait_final(system, jobs, timeout=300)
    time.sleep(SETTLE_SECONDS)
    attach_meters(bench, system)
    reads: dict[str, Any] = {}
    try:
        with httpx.Client(timeout=30, base_url=system.api_url) as http:
            for name, path in (
                ("dashboard page (GET /jobs, 25 jobs)", f"/jobs?limit={LISTED_JOBS}"),
                ("job poll (GET /task/{id})", f"/task/{jobs[0]}"),
                ("job detail (GET /jobs/{id}?logs=false)", f"/jobs/{jobs[0]}?logs=false"),
            ):
                system.reset()
                http.get(path).raise_for_status()
                api, _ = flatten(system.api_counter.snapshot())
                reads[name] = {"requests": api, "dynamodb_units": system.api_counter.units()}
    finally:
        detach_meters(system)
    return reads


def _measure_cases(bench: Bench, system: System, runs: int) -> dict[str, CaseResult]:
    # A first job warms every client and cache (queue URLs, Celery's table) and is not counted.
    count_one(bench, system, email_job(system))
    results: dict[str, CaseResult] = {}
    for case in CASES:
        measured = []
        for _ in range(runs):
            if case == CASES[0]:
                job = email_job(system)
            elif case == CASES[1]:
                job = file_job(bench, system)
            else:
                job = retried_email_job(bench, system)
            measured.append(count_one(bench, system, job))
        results[case] = median_case(measured)
    return results


def measure_idle(bench: Bench, seconds: float) -> dict[str, dict[str, Any]]:
    """Every request both systems make with nothing to do, scaled to one hour."""
    systems = (bench.skylane, bench.naive)
    for system in systems:
        system.reset()
    time.sleep(seconds)
    idle: dict[str, dict[str, Any]] = {}
    for system in systems:
        counter = system.worker_counter.snapshot() + system.api_counter.snapshot()
        counts = {f"{s}:{op}": n for (s, op), n in sorted(counter.items())}
        total = sum(counts.values())
        idle[system.name] = {
            "seconds": seconds,
            "requests": counts,
            "per_hour": round(total * 3600 / seconds),
        }
    return idle
