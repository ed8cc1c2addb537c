"""The table ``make bench`` prints, from the results it writes."""

from typing import Any

from bench.coldstart import API_HANDLER, HELLO_HANDLER
from bench.cost import dynamodb_units
from bench.jobs import CASES
from bench.machine import STEAL_LIMIT
from bench.throughput import round_ratios, spread

COLD_START_BUDGET = 1.25
API_PACKAGE_BUDGET_MB = 30.0
SAM_BUILD_WARM_BUDGET_S = 10.0


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _sum(case: dict[str, Any]) -> str:
    return f"{case['api_total']}+{case['worker_total']}={case['total']}"


def print_report(r: dict[str, Any]) -> None:
    m = r["machine"]
    print(
        f"\nmachine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}"
        f" (load average at start {', '.join(f'{x:.1f}' for x in m['load_average'] or [])};"
        " other processes may have been running)"
    )

    c = r["cold_start"]
    api, hello = c[API_HANDLER], c[HELLO_HANDLER]
    print(f"\nCOLD START (import + first /health, median of {c['runs']} fresh processes)")
    print(f"  {'':18} {'wall':>8} {'CPU':>8}   wall min / median / max")
    for name, x in (("API handler", api), ("hello-world", hello)):
        wall, cpu = x["import_and_first_request_s"], x["import_and_first_request_cpu_s"]
        each = spread(x["import_and_first_request_all_s"])
        print(
            f"  {name:18} {wall * 1000:6.0f}ms {cpu * 1000:6.0f}ms"
            f"   {each['min'] * 1000:.0f} / {each['median'] * 1000:.0f} / {each['max'] * 1000:.0f} ms"
        )
    print(
        f"  ratio              {c['ratio']:7.2f}x {c['cpu_ratio']:7.2f}x"
        f"   budget <= {COLD_START_BUDGET}x (CPU time, robust to load):"
        f" {verdict(c['cpu_ratio'] <= COLD_START_BUDGET)}"
    )

    print_sam_build(r.get("sam_build"))
    print_image_size(r.get("image_size"))

    print("\nPACKAGE SIZE (unzipped, sum of file sizes)")
    for name, p in r["package_size"].items():
        note = "with boto3" if p["contains_boto3"] else "without boto3"
        budget = ""
        if name == "ApiFunction":
            ok = p["mb"] < API_PACKAGE_BUDGET_MB and not p["contains_boto3"]
            budget = f"   budget < {API_PACKAGE_BUDGET_MB:g} MB: {verdict(ok)}"
        print(f"  {name:18} {p['mb']:6.1f} MB ({note}){budget}")
        tools = p.get("tools_included", [])
        print(
            f"  {'':18} own code {p.get('own_code_kb', 0):6.1f} kB, no CLI or local-stack code:"
            f" {verdict(not tools)}{'' if not tools else ' (holds ' + ', '.join(tools) + ')'}"
        )

    print_requests(r)

    print("\nIDLE (one worker, nothing to do)")
    for name, idle in r["idle"].items():
        print(
            f"  {name:8} {idle['per_hour']:6d} requests/hour"
            f"  (${r['idle_cost_per_month'][name]:.2f}/month)  {idle['requests']}"
        )

    print_chords(r.get("chords"))
    print_throughput(r)
    print_cost(r)


def _units(units: dict[str, dict[str, float]]) -> str:
    parts = []
    for kind in ("write", "read"):
        for target, n in units.get(kind, {}).items():
            parts.append(f"{kind} {target} {n:g}")
    return ", ".join(parts) or "none"


def print_requests(r: dict[str, Any]) -> None:
    rq = r["requests_per_job"]
    print("\nAWS REQUESTS PER JOB (API per submission + worker; median of runs)")
    print(f"  {'case':34} {'skylane':>16} {'naive':>16}  budget: fewer")
    for case in CASES:
        s, n = rq["skylane"][case], rq["naive"][case]
        print(f"  {case:34} {_sum(s):>16} {_sum(n):>16}  {verdict(s['total'] < n['total'])}")
    for name in ("skylane", "naive"):
        print(f"  {name} by operation:")
        for case in CASES:
            x = rq[name][case]
            ops = ", ".join(f"{k} {v}" for k, v in {**x["api"], **x["worker"]}.items())
            print(f"    {case}: {ops}")
    print("\nDYNAMODB UNITS PER JOB (computed from item sizes and index definitions)")
    for name in ("skylane", "naive"):
        for case in CASES:
            print(f"  {name:8} {case:34} {_units(dynamodb_units(rq[name][case]))}")
    for read, measured in r.get("reads", {}).items():
        print(f"  skylane  {read:40} {_units(measured['dynamodb_units'])}")


def print_cost(r: dict[str, Any]) -> None:
    cost = r["cost_per_million_jobs"]
    print(
        f"\nAWS COST PER MILLION JOBS (USD, {r['prices']['region']} list prices as of"
        f" {r['prices']['as_of']}; prices change)"
    )
    print(f"  {'case':34} {'skylane':>9} {'naive':>9}")
    for case in CASES:
        s, n = cost["skylane"][case], cost["naive"][case]
        print(
            f"  {case:34} {s['total']:9.2f} {n['total']:9.2f}"
            f"   DynamoDB {s['dynamodb']:.2f} vs {n['dynamodb']:.2f}"
        )
    for read, dollars in r.get("cost_per_million_reads", {}).items():
        print(f"  skylane, per million {read}: {dollars:.2f}")


def print_image_size(sizes: dict[str, Any] | None) -> None:
    print("\nIMAGES (make images; uncompressed size as the engine reports it)")
    for tag, mb in (sizes or {}).items():
        print(f"  {tag:40} {'not built' if mb is None else f'{mb:6.1f} MB'}")


def print_sam_build(b: dict[str, Any] | None) -> None:
    print("\nSAM BUILD (make build; cold: .aws-sam removed first, uv's wheel cache kept)")
    if b is None:
        print("  not measured (--skip-build)")
        return
    for kind in ("cold", "warm"):
        x = b[kind]
        print(
            f"  {kind:6} {x['seconds']:6.1f} s   dependencies installed for {x['dependency_installs']} functions"
        )
    warm = b["warm"]
    ok = warm["seconds"] < SAM_BUILD_WARM_BUDGET_S and warm["dependency_installs"] == 0
    print(f"  budget: warm < {SAM_BUILD_WARM_BUDGET_S:g} s, from the cache: {verdict(ok)}")


def print_throughput(r: dict[str, Any]) -> None:
    t = r["throughput"]
    s, n = t["skylane"], t["naive"]
    print(f"\nTHROUGHPUT ({s['jobs']} send_email jobs, submit to SUCCESS, 2 worker processes)")
    print(f"  {'':8} {'jobs/s min / median / max':>26} {'p50 s':>8} {'p95 s':>8} {'failed':>7}")
    for name, x in t.items():
        rate = x.get("jobs_per_second_spread") or {"min": x["jobs_per_second"]} | {
            "median": x["jobs_per_second"],
            "max": x["jobs_per_second"],
        }
        figures = f"{rate['min']:.2f} / {rate['median']:.2f} / {rate['max']:.2f}"
        print(
            f"  {name:8} {figures:>26} {x['p50_latency_s']:8.2f}"
            f" {x['p95_latency_s']:8.2f} {x['failed']:7d}"
        )
    ratio = round_ratios(s, n)
    print(
        f"  ratio of each alternating round: {ratio['rounds']};"
        f" min / median / max {ratio['min']:.2f} / {ratio['median']:.2f} / {ratio['max']:.2f}x"
    )
    print_rounds(t)
    for name, x in t.items():
        ops = ", ".join(f"{k} {v}" for k, v in x["requests_per_job"].items())
        print(f"  {name} requests per job under load: {ops}")
        waits = ", ".join(f"{k} {v}" for k, v in x["worker_ms_per_job_by_operation"].items())
        print(f"  {name} worker ms per job waiting on AWS: {waits}")
        print(
            f"  {name} CPU ms per job: worker processes {x['worker_cpu_ms_per_job']},"
            f" emulator {x['emulator_cpu_ms_per_job']},"
            f" bench {x.get('bench_cpu_ms_per_job', '-')}"
        )


def _cpu(run: dict[str, Any]) -> str:
    share = run.get("machine_cpu_share") or {}
    return f"{share.get('busy', 0):.0%} busy, {share.get('steal', 0):.1%} steal"


def print_rounds(t: dict[str, Any]) -> None:
    """Which rounds the figures come from, and the machine's CPU during each run."""
    first = next(iter(t.values()))
    if "rounds_run" not in first:
        return
    if first["undisturbed_only"]:
        print(
            f"  rounds: {first['rounds_run']} run, {len(first['runs'])} undisturbed used;"
            f" set aside (steal over {STEAL_LIMIT:.0%} in a run): "
            + (", ".join(str(r["round"]) for r in first["set_aside"]) or "none")
        )
    else:
        print(
            f"  rounds: {first['rounds_run']} run, too few undisturbed (steal at most"
            f" {STEAL_LIMIT:.0%} in both runs): the figures include disturbed rounds"
        )
    for name, x in t.items():
        used = "; ".join(_cpu(run) for run in x["runs"])
        aside = "; ".join(f"round {r['round']}: {_cpu(r)}" for r in x["set_aside"])
        print(
            f"  {name} machine CPU, rounds used: {used}"
            + (f"; set aside: {aside}" if aside else "")
        )


def print_chords(c: dict[str, Any] | None) -> None:
    if not c:
        return
    print(f"\nCHORDS (POST /process-batch of {c['parts']} one-chunk files, skylane)")
    writes = c["dynamodb_writes"]
    print(f"  DynamoDB writes: API {writes['api']}, worker {writes['worker']}")
    print(
        f"  per part: {c['writes_per_part']:.2f} writes"
        f" ({c['lone_job_writes']} for the same job alone; the chord adds"
        f" {c['chord_writes_per_part']:.2f} per part, the body's shared writes included)"
    )
