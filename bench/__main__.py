"""``make bench`` (``python -m bench``): skylane measured against the naive port.

Cold start (imported on the host, and in fresh Lambda runtime containers beside a hello-world),
sam build time, package size, AWS requests per job, idle requests, throughput and cost; a table
on stdout and everything in bench/results.json.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import (
    chords,
    coldstart,
    cost,
    image_size,
    jobs,
    machine,
    package_size,
    prices,
    runtime_coldstart,
    sam_build,
    throughput,
)
from bench.report import print_chords, print_cost, print_report, print_requests, print_throughput
from bench.stack import Bench, start_bench

RESULTS = Path(__file__).resolve().parent / "results.json"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--cold-start-runs", type=int, default=11)
    parser.add_argument(
        "--runtime-cold-start-runs",
        type=int,
        # Fresh containers here vary by a third from one to the next (pairs' ratios from 0.8
        # to 1.6x): with 21 pairs two runs of one commit gave 1.08x and 1.13x; each container
        # takes about 1.7 s.
        default=41,
        help="fresh x86_64 runtime containers of ApiFunction and of hello-world each",
    )
    parser.add_argument("--job-runs", type=int, default=3, help="runs of each per-job case")
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--jobs", type=int, default=500, help="jobs in the throughput run")
    # Three undisturbed rounds of one run each, alternating (A B A B A B): min / median / max of
    # each and of the ratio of each round. A round whose machine was disturbed (steal) is run
    # again, up to --throughput-max-rounds (bench.throughput.measure_interleaved).
    parser.add_argument("--throughput-runs", type=int, default=3)
    parser.add_argument("--throughput-max-rounds", type=int, default=6)
    parser.add_argument("--skip-build", action="store_true", help="measure .aws-sam as it is")
    parser.add_argument(
        "--only",
        choices=("all", "throughput", "requests", "chords", "runtime-cold-start"),
        default="all",
        help="throughput: only the throughput runs (both systems, interleaved), for quick"
        " comparisons; requests: only the requests, DynamoDB units and cost per job;"
        " chords: only DynamoDB writes per chord part (skylane alone);"
        " runtime-cold-start: only the cold starts in the Lambda runtime stand-in",
    )
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="skylane worker environment over the template's (e.g. WORKER_PREFETCH_MULTIPLIER=1)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def step(name: str) -> None:
    print(f"[bench] {time.strftime('%H:%M:%S')} {name}", file=sys.stderr, flush=True)


def worker_overrides(args: argparse.Namespace) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in args.worker_env]
    if any(len(pair) != 2 for pair in pairs):
        raise SystemExit("--worker-env takes NAME=VALUE")
    return {name: value for name, value in pairs}


def measure_throughput(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    return throughput.measure_interleaved(
        bench,
        [bench.skylane, bench.naive],
        args.jobs,
        args.throughput_runs,
        step,
        args.throughput_max_rounds,
    )


def run_throughput_only(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": machine.describe(),
        "started": time.time(),
        "skylane_worker_env": worker_overrides(args),
    }
    step("local stack: emulator, template, both systems")
    bench = start_bench(Path(tempfile.mkdtemp(prefix="skylane-bench-")))
    try:
        bench.start_skylane(worker_overrides(args))
        bench.start_naive()
        results["throughput"] = measure_throughput(bench, args)
        results["logs"] = str(bench.logs.directory)
    finally:
        bench.stop()
    results["seconds"] = round(time.time() - results["started"])
    return results


def measure_requests(bench: Any, args: argparse.Namespace, results: dict[str, Any]) -> None:
    """Requests and DynamoDB units per job of each case, the API's reads, and their cost."""
    results["requests_per_job"] = {}
    for system in (bench.skylane, bench.naive):
        step(f"requests per job: {system.name}")
        cases = jobs.measure_cases(bench, system, args.job_runs)
        results["requests_per_job"][system.name] = {
            case: measured.as_dict() for case, measured in cases.items()
        }
    step("reads: a dashboard page, a job poll, a job detail")
    results["reads"] = jobs.measure_reads(bench, bench.skylane)
    results["cost_per_million_jobs"] = {
        name: {case: cost.per_million_jobs(c) for case, c in cases_of.items()}
        for name, cases_of in results["requests_per_job"].items()
    }
    results["cost_per_million_reads"] = {
        name: round(cost.units_cost(read["dynamodb_units"]) * 1_000_000, 2)
        for name, read in results["reads"].items()
    }
    results["prices"] = {"as_of": prices.PRICES_AS_OF, "region": prices.REGION, **prices.SOURCES}


def run_requests_only(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine.describe(), "started": time.time()}
    step("local stack: emulator, template, both systems")
    bench = start_bench(Path(tempfile.mkdtemp(prefix="skylane-bench-")))
    try:
        bench.start_skylane(worker_overrides(args))
        bench.start_naive()
        measure_requests(bench, args, results)
    finally:
        bench.stop()
    results["seconds"] = round(time.time() - results["started"])
    return results


def run_chords_only(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine.describe(), "started": time.time()}
    step("local stack: emulator, template, skylane")
    bench = start_bench(Path(tempfile.mkdtemp(prefix="skylane-bench-")))
    try:
        bench.start_skylane(worker_overrides(args))
        step("DynamoDB writes per chord part")
        results["chords"] = chords.measure(bench)
    finally:
        bench.stop()
    results["seconds"] = round(time.time() - results["started"])
    return results


def measure_runtime_cold_start(args: argparse.Namespace) -> dict[str, Any]:
    """x86_64 only: arm64 runs under qemu here, which times emulation, not Graviton."""
    step(f"cold start in the Lambda runtime: {args.runtime_cold_start_runs} containers each")
    return runtime_coldstart.measure(args.runtime_cold_start_runs, ("x86_64",))


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.only == "runtime-cold-start":
        return {
            "machine": machine.describe(),
            "runtime_cold_start": measure_runtime_cold_start(args),
        }
    if args.only == "throughput":
        return run_throughput_only(args)
    if args.only == "chords":
        return run_chords_only(args)
    if args.only == "requests":
        return run_requests_only(args)
    results: dict[str, Any] = {
        "machine": machine.describe(),
        "started": time.time(),
        "skylane_worker_env": worker_overrides(args),
    }
    step("cold starts")
    results["cold_start"] = coldstart.measure(args.cold_start_runs, dict(os.environ))
    results["runtime_cold_start"] = measure_runtime_cold_start(args)
    if not args.skip_build:
        step("sam build: cold (.aws-sam removed), then warm")
        results["sam_build"] = sam_build.measure()
    step("package sizes")
    # The warm build just made them (or --skip-build: .aws-sam as it is).
    results["package_size"] = package_size.measure(skip_build=True)
    step("image sizes")
    results["image_size"] = image_size.measure()
    step("local stack: emulator, template, both systems")
    bench = start_bench(Path(tempfile.mkdtemp(prefix="skylane-bench-")))
    try:
        bench.start_skylane(worker_overrides(args))
        bench.start_naive()
        measure_requests(bench, args, results)
        step("DynamoDB writes per chord part")
        results["chords"] = chords.measure(bench)
        step(f"idle requests ({args.idle_seconds:g} s)")
        results["idle"] = jobs.measure_idle(bench, args.idle_seconds)
        results["throughput"] = measure_throughput(bench, args)
        results["logs"] = str(bench.logs.directory)
    finally:
        bench.stop()
    results["idle_cost_per_month"] = {
        name: cost.idle_per_month(idle["per_hour"]) for name, idle in results["idle"].items()
    }
    results["seconds"] = round(time.time() - results["started"])
    return results


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.only != "all" and args.output == RESULTS:
        # A partial run never replaces the full run's figures.
        args.output = RESULTS.with_name(f"{args.only}.json")
    results = run(args)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    if args.only == "throughput":
        print_throughput(results)
    elif args.only == "chords":
        print_chords(results["chords"])
    elif args.only == "requests":
        print_requests(results)
        print_cost(results)
    elif args.only == "runtime-cold-start":
        print(runtime_coldstart.report(results["runtime_cold_start"]))
    else:
        print_report(results)
        print(runtime_coldstart.report(results["runtime_cold_start"]))
    print(f"\nresults: {args.output}")


if __name__ == "__main__":
    main()
