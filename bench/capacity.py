"""Where skylane stops scaling: the job rate at which each part saturates, and worker bursts.

``make capacity`` (``python -m bench.capacity``) computes, from the per-job requests and
DynamoDB units ``make bench`` measured (bench/results.json), from template.yaml and from AWS's
published limits (LIMITS), the sustained job rate each part can take, the first to saturate
and what to change then. It then simulates the worker's autoscaling policy as the template
defines it (bench.autoscaling) for bursts of 100,000 and 1,000,000 jobs and a steady 50 jobs/s
for an hour, prints the time to drain, peak tasks and cost, and plots the backlog and tasks
over time to docs/capacity.png.

Times on AWS are not measured here: ``--job-seconds`` (a worker job), ``--light-job-seconds``,
``--api-ms`` (an API invocation) and ``--startup-seconds`` (a Fargate task, asked for to
running) are stated assumptions, printed with the results.
"""

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import prices
from bench.autoscaling import Policy, Run, Workload, simulate
from bench.cost import dynamodb_units
from bench.machine import REPO_ROOT
from infra.template import Template, load_template

RESULTS = REPO_ROOT / "bench" / "results.json"
PLOT = REPO_ROOT / "docs" / "capacity.png"
CASE = "send_email"
# HTTP requests a client makes to submit one job of a case (a file job uploads first).
SUBMISSIONS = {"send_email": 1, "process_file (10 progress steps)": 2}

# AWS's published limits (defaults; the account-level ones can be raised on request).
LIMITS = {
    "dynamodb_partition_wcu": 1000,  # write units per second per partition
    "dynamodb_new_table_wru": 4000,  # a new on-demand table, before DynamoDB scales it
    "dynamodb_table_wru_quota": 40000,  # per-table on-demand quota (adjustable)
    "sqs_standard_in_flight": 120000,  # in-flight messages per standard queue
    "lambda_account_concurrency": 1000,  # concurrent executions per account and region
}
SOURCES = {
    "dynamodb": "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html",
    "sqs": "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html",
    "lambda": "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html",
}
DAY_SHARDS_OF_INDEX = 10  # skylane.jobs.DAY_SHARDS: the partitions a day's by_day writes use
# functions/worker/__main__.py's WORKER_CONCURRENCY (importing it reads the worker's settings;
# a unit test keeps the two equal).
WORKER_CONCURRENCY = 2


@dataclass(frozen=True)
class Assumptions:
    job_seconds: float = 0.5
    light_job_seconds: float = 0.5
    api_ms: float = 50.0
    startup_seconds: int = 60


@dataclass(frozen=True)
class Part:
    name: str
    jobs_per_second: float
    basis: str
    change: str
    # The lane the part serves: None for every job, else "worker" or "light".
    lane: str | None = None


def first_to_saturate(parts: Sequence[Part], lane: str) -> Part:
    """The lowest rate a job of ``lane`` meets on its way."""
    return min(
        (part for part in parts if part.lane in (None, lane)), key=lambda p: p.jobs_per_second
    )


def per_job(results: dict[str, Any], case: str) -> dict[str, float]:
    """skylane's measured write units per job of ``case``, by table and index."""
    measured = results["requests_per_job"]["skylane"][case]
    writes = dynamodb_units(measured).get("write", {})
    return {target: float(units) for target, units in writes.items()}


def _rate(capacity: float, per_job_units: float) -> float:
    return capacity / per_job_units if per_job_units > 0 else math.inf


def saturation(
    template: Template, writes: dict[str, float], case: str, assume: Assumptions
) -> list[Part]:
    """Each part's sustained job rate for jobs of ``case``, lowest first."""
    parameters, resources = template["Parameters"], template["Resources"]
    throttle = float(parameters["ApiThrottlingRateLimit"]["Default"])
    light_event = resources["LightFunction"]["Properties"]["Events"]["LightQueue"]["Properties"]
    light_concurrency = int(light_event["ScalingConfig"]["MaximumConcurrency"])
    policy = Policy.from_template(template)
    submissions = SUBMISSIONS.get(case, 1)
    table = writes.get("table", 0.0)
    parts = [
        Part(
            "API Gateway stage throttle",
            throttle / submissions,
            f"ApiThrottlingRateLimit {throttle:g} requests/s, {submissions} per job",
            "raise ApiThrottlingRateLimit (the account's limit is 10,000 requests/s)",
        ),
        Part(
            "API Lambda concurrency",
            LIMITS["lambda_account_concurrency"] / (assume.api_ms / 1000 * submissions),
            f"{LIMITS['lambda_account_concurrency']} concurrent executions, {assume.api_ms:g} ms"
            " per request",
            "ask for a higher account concurrency; keep the API's imports lean",
        ),
        Part(
            "DynamoDB job table, new on-demand table",
            _rate(LIMITS["dynamodb_new_table_wru"], table),
            f"{LIMITS['dynamodb_new_table_wru']} write units/s, {table:g} per job",
            "pre-warm the table (warm throughput) before a launch; DynamoDB scales it itself",
        ),
        Part(
            "DynamoDB job table, per-table quota",
            _rate(LIMITS["dynamodb_table_wru_quota"], table),
            f"{LIMITS['dynamodb_table_wru_quota']} write units/s, {table:g} per job",
            "ask for a higher table quota; fewer or smaller writes per job",
        ),
        Part(
            "by_day index, the 10 shards of a day",
            _rate(DAY_SHARDS_OF_INDEX * LIMITS["dynamodb_partition_wcu"], writes.get("by_day", 0)),
            f"{DAY_SHARDS_OF_INDEX} x {LIMITS['dynamodb_partition_wcu']} write units/s,"
            f" {writes.get('by_day', 0):g} per job",
            "more shards per day (skylane.jobs.DAY_SHARDS; the listing reads each one)",
        ),
        Part(
            "by_user index, one user's partition",
            _rate(LIMITS["dynamodb_partition_wcu"], writes.get("by_user", 0)),
            f"{LIMITS['dynamodb_partition_wcu']} write units/s, {writes.get('by_user', 0):g}"
            " per job of one user",
            "shard a user's key as by_day is, if one user submits that fast",
        ),
        Part(
            "SQS standard queue",
            math.inf,
            "no published rate limit; "
            f"{LIMITS['sqs_standard_in_flight']:,} in-flight messages per queue",
            "nothing: the workers hold at most tasks x concurrency x prefetch messages",
        ),
        Part(
            "light lane (LightFunction)",
            light_concurrency / assume.light_job_seconds,
            f"MaximumConcurrency {light_concurrency}, one job at a time per invocation,"
            f" {assume.light_job_seconds:g} s per job",
            "raise the event source's MaximumConcurrency (up to 1,000)",
            lane="light",
        ),
        Part(
            "worker lane (ECS autoscaling)",
            policy.max_count * WORKER_CONCURRENCY / assume.job_seconds,
            f"WorkerMaxCount {policy.max_count} x {WORKER_CONCURRENCY} processes,"
            f" {assume.job_seconds:g} s per job",
            "raise WorkerMaxCount (and the account's Fargate vCPU quota) or WORKER_CONCURRENCY",
            lane="worker",
        ),
    ]
    return sorted(parts, key=lambda part: part.jobs_per_second)


# The WorkerMaxCount the plot compares with the template's: enough tasks for 50 jobs/s.
WHAT_IF_MAX_COUNT = 40
WORKLOADS = (
    Workload("burst of 100,000 jobs", burst=100_000),
    Workload("burst of 1,000,000 jobs", burst=1_000_000),
    Workload("50 jobs/s for an hour", rate_per_second=50, arrival_seconds=3600),
)


def task_cost(policy: Policy, run: Run) -> float:
    per_hour = (
        policy.task_vcpu * prices.FARGATE_ARM_PER_VCPU_HOUR
        + policy.task_gb * prices.FARGATE_ARM_PER_GB_HOUR
    )
    return run.task_seconds / 3600 * per_hour


def simulate_all(policy: Policy, assume: Assumptions) -> list[Run]:
    """Each of WORKLOADS under ``policy``."""
    return [
        simulate(
            policy,
            workload,
            concurrency=WORKER_CONCURRENCY,
            job_seconds=assume.job_seconds,
            startup_seconds=assume.startup_seconds,
            max_seconds=14 * 24 * 3600,
        )
        for workload in WORKLOADS
    ]


def plot(
    runs: Sequence[Run], policy: Policy, path: Path, what_if: Sequence[Run], what_if_max: int
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 3.6), layout="constrained")
    for axis, run, other in zip(axes, runs, what_if, strict=True):
        tasks = axis.twinx()
        for shown, style, label in (
            (run, "-", f"WorkerMaxCount {policy.max_count} (template)"),
            (other, "--", f"WorkerMaxCount {what_if_max}"),
        ):
            hours = [t / 3600 for t in shown.times]
            axis.plot(hours, shown.backlog, color="tab:blue", linestyle=style, label=label)
            tasks.step(hours, shown.tasks, where="post", color="tab:orange", linestyle=style)
        axis.set_title(run.workload.name)
        axis.set_xlabel("hours")
        axis.set_ylabel("jobs waiting (blue)", color="tab:blue")
        tasks.set_ylim(0, what_if_max * 1.1)
        tasks.set_ylabel("worker tasks (orange)", color="tab:orange")
        axis.legend(loc="upper right", fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def report(
    parts: Sequence[Part],
    runs: Sequence[Run],
    policy: Policy,
    assume: Assumptions,
    case: str,
    job_cost: float | None,
    what_if: Sequence[Run] = (),
    what_if_max: int = 0,
) -> str:
    lines = [f"SATURATION (sustained jobs/s, DynamoDB units of {case} jobs; lowest first)"]
    for part in parts:
        rate = "no limit" if math.isinf(part.jobs_per_second) else f"{part.jobs_per_second:,.0f}"
        lines.append(f"  {part.name:40} {rate:>10}   {part.basis}")
    for lane in ("worker", "light"):
        first = first_to_saturate(parts, lane)
        lines.append(
            f"  first to saturate for a {lane}-lane job: {first.name}"
            f" ({first.jobs_per_second:,.0f} jobs/s); then {first.change}"
        )
    lines.append(
        f"\nWORKER BURSTS (template: {policy.min_count}-{policy.max_count} tasks, steps"
        f" {[(s.lower, s.upper, s.adjustment) for s in policy.steps]}, cooldown"
        f" {policy.scale_out_cooldown} s, idle {policy.idle_periods} x {policy.alarm_period} s;"
        f" assumed: {WORKER_CONCURRENCY} processes x {assume.job_seconds:g} s per job,"
        f" Fargate start {assume.startup_seconds} s)"
    )
    for run in [*runs, *what_if]:
        if what_if and run is what_if[0]:
            lines.append(f"  the same with WorkerMaxCount {what_if_max}:")
        drained = "never" if run.drained_at is None else f"{run.drained_at / 3600:.2f} h"
        jobs = run.workload.burst + run.workload.rate_per_second * run.workload.arrival_seconds
        tasks = task_cost(policy, run)
        total = tasks + (job_cost or 0.0) * jobs
        lines.append(
            f"  {run.workload.name:26} drained after {drained:>8}, peak {run.peak_tasks} tasks,"
            f" {run.task_seconds / 3600:7.1f} task-hours (${tasks:,.2f}),"
            f" peak backlog {max(run.backlog):,.0f}, with the jobs' AWS requests ${total:,.2f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--case", default=CASE, choices=sorted(SUBMISSIONS))
    parser.add_argument("--job-seconds", type=float, default=Assumptions.job_seconds)
    parser.add_argument("--light-job-seconds", type=float, default=Assumptions.light_job_seconds)
    parser.add_argument("--api-ms", type=float, default=Assumptions.api_ms)
    parser.add_argument("--startup-seconds", type=int, default=Assumptions.startup_seconds)
    parser.add_argument("--plot", type=Path, default=PLOT)
    parser.add_argument(
        "--what-if-max-count", type=int, default=WHAT_IF_MAX_COUNT, help="WorkerMaxCount to compare"
    )
    args = parser.parse_args(argv)
    assume = Assumptions(
        args.job_seconds, args.light_job_seconds, args.api_ms, args.startup_seconds
    )
    if not args.results.exists():
        raise SystemExit(
            f"{args.results} is missing: make bench writes it, or, in about a minute,"
            " python -m bench --only requests"
        )
    results = json.loads(args.results.read_text())
    template = load_template()
    policy = Policy.from_template(template)
    parts = saturation(template, per_job(results, args.case), args.case, assume)
    runs = simulate_all(policy, assume)
    what_if = simulate_all(replace(policy, max_count=args.what_if_max_count), assume)
    job_cost = results.get("cost_per_million_jobs", {}).get("skylane", {}).get(args.case)
    per_job_cost = job_cost and job_cost["total"] / 1e6
    print(
        report(
            parts, runs, policy, assume, args.case, per_job_cost, what_if, args.what_if_max_count
        )
    )
    plot(runs, policy, args.plot, what_if, args.what_if_max_count)
    print(f"\nplot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
