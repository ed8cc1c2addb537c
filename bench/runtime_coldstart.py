"""Cold start of ApiFunction's built package in the Lambda runtime, beside a hello-world.

Each run is a fresh container of the runtime stand-in (skylane-local/lambda-python:3.13-<arch>)
with SAM CLI's Runtime Interface Emulator as its entry point, as `sam local` runs a function:
the package at /var/task (read-only, as on Lambda), 512 MB. Once the emulator answers HTTP,
one API Gateway HTTP API (2.0) event for GET /health is posted to it;
the cold start is the time from that invocation to its response: the runtime starting, the
handler's import and the first request (SAM CLI's Init Duration counts none of the import).

Both packages are built by the Makefile's own recipe (make build-ApiFunction), the x86_64 one
with LAMBDA_PLATFORM=x86_64-manylinux_2_28, each with a dependency cache of its own under
.local/bench-runtime. The baseline, a hello-world FastAPI app behind Mangum (bench/hello.py),
is packaged beside each with the same dependencies and bytecode and run the same way,
alternating with ApiFunction in one run; the ratio is of the medians on x86_64. On an x86_64
machine the arm64 runs are under qemu-user: they show the package works there, and measure
emulation, not Graviton.

``python -m bench.runtime_coldstart [--runs 3] [--arch x86_64 --arch arm64] [--json PATH]``
(needs a Docker engine and the stand-ins: ``make images``).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.coldstart import API_ENV
from bench.coldstart_probe import health_event
from bench.machine import REPO_ROOT, STEAL_LIMIT, cpu_ticks, describe, shares_between
from infra.bytecode import main as compile_bytecode
from infra.images.build import ARCHITECTURES, Architecture
from infra.sam_local import sam_python

FUNCTION = "ApiFunction"
HANDLER = "functions.api.handler.handler"
HELLO = "hello-world"
HELLO_HANDLER = "bench.hello.handler"
MEMORY_MB = 512
# Generous: an arm64 import under qemu takes most of a minute.
TIMEOUT_SECONDS = 300
WORK_DIR = REPO_ROOT / ".local" / "bench-runtime"
RIE_PORT = 8080
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
READY_TIMEOUT_SECONDS = 60.0


def rie_directory() -> Path:
    """SAM CLI's own Runtime Interface Emulator binaries (aws-lambda-rie-<arch>)."""
    found = subprocess.run(
        [
            str(sam_python()),
            "-c",
            "import samcli, pathlib; print(pathlib.Path(samcli.__file__).parent)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(found.stdout.strip()) / "local" / "rapid"


def build_package(arch: Architecture, work_dir: Path = WORK_DIR) -> Path:
    """ApiFunction built by make build-ApiFunction for ``arch``'s Lambda platform."""
    root = work_dir / arch.name
    package = root / FUNCTION
    shutil.rmtree(package, ignore_errors=True)
    package.mkdir(parents=True)
    built = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "build-ApiFunction",
            f"ARTIFACTS_DIR={package}",
            f"FUNCTION_DEPS={root / 'deps'}",
            f"LAMBDA_PLATFORM={arch.pip_platform}",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        raise RuntimeError(f"build of {FUNCTION} for {arch.name} failed:\n{built.stderr[-3000:]}")
    return package


def build_hello_package(arch: Architecture, work_dir: Path = WORK_DIR) -> Path:
    """bench/hello.py with ApiFunction's dependencies for ``arch`` (build_package made them)."""
    root = work_dir / arch.name
    package = root / "HelloFunction"
    shutil.rmtree(package, ignore_errors=True)
    # Hard links, as the Makefile's recipe links the dependencies.
    shutil.copytree(root / "deps" / FUNCTION, package, copy_function=os.link)
    (package / "bench").mkdir()
    for name in ("__init__.py", "hello.py"):
        shutil.copy(REPO_ROOT / "bench" / name, package / "bench" / name)
    compile_bytecode([str(package / "bench")])
    return package


def container_environment(handler: str = HANDLER) -> dict[str, str]:
    """What Lambda and `sam local` set for the function, and the API's settings as the bench's
    other cold start measures it (GET /health makes no AWS call)."""
    return {
        **API_ENV,
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
        "AWS_LAMBDA_FUNCTION_HANDLER": handler,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_MB),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(TIMEOUT_SECONDS),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        # No X-Ray daemon here: the template turns tracing off for Stage=local.
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def _published_port(container: str) -> int:
    mapping = subprocess.run(
        ["docker", "port", container, f"{RIE_PORT}/tcp"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    return int(mapping.rsplit(":", 1)[1])


def _wait_for_emulator(url: str, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    """Until the emulator itself answers HTTP (it starts the runtime on the first invocation).

    Docker's proxy accepts a connection before the container listens and then drops it, so
    only an HTTP answer counts.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2.0):  # noqa: S310 (http://)
                return
        except urllib.error.HTTPError:
            return  # 404 from the emulator: it is up
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the runtime interface emulator never answered at {url}"
                ) from None
            time.sleep(0.05)


def cold_start(
    arch: Architecture, package: Path, rie: Path, handler: str = HANDLER
) -> dict[str, float]:
    """One fresh container, one invocation: seconds to the first response."""
    name = f"skylane-coldstart-{arch.name}-{uuid.uuid4().hex[:8]}"
    argv = ["docker", "run", "--detach", "--rm", "--name", name]
    argv += ["--publish", f"127.0.0.1::{RIE_PORT}", "--memory", f"{MEMORY_MB}m"]
    argv += ["--volume", f"{rie}:/var/rapid:ro", "--volume", f"{package.resolve()}:/var/task:ro"]
    for variable, value in container_environment(handler).items():
        argv += ["--env", f"{variable}={value}"]
    argv += ["--entrypoint", f"/var/rapid/aws-lambda-rie-{arch.name}", arch.lambda_runtime]
    argv += ["--log-level", "error"]
    event = json.dumps(health_event()).encode()
    started = time.perf_counter()
    container = subprocess.run(argv, capture_output=True, check=True, text=True).stdout.strip()
    try:
        base = f"http://127.0.0.1:{_published_port(name)}"
        _wait_for_emulator(f"{base}/")
        ready = time.perf_counter()
        cpu_ready = container_cpu_seconds(container)
        # http:// to the published port, always.
        request = urllib.request.Request(f"{base}{INVOKE_PATH}", data=event, method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS + 10) as answer:  # noqa: S310
            body = json.loads(answer.read())
        answered = time.perf_counter()
        cpu_answered = container_cpu_seconds(container)
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True, check=False)
    if body.get("statusCode") != 200:
        raise RuntimeError(f"GET /health in the {arch.name} runtime answered {body}")
    timings = {
        "invoke_to_response_s": answered - ready,
        "container_to_response_s": answered - started,
    }
    if cpu_ready is not None and cpu_answered is not None:
        # The container's CPU time from invocation to response: the runtime starting, the
        # import and the request, without the waiting the machine's other work adds.
        timings["invoke_to_response_cpu_s"] = cpu_answered - cpu_ready
    return timings


CGROUP = Path("/sys/fs/cgroup")


def container_cpu_seconds(container: str) -> float | None:
    """CPU seconds a container has used so far, from its cgroup (v1 with cgroupfs, or v2);
    None where neither is found."""
    for usage in (
        CGROUP / "cpuacct" / "docker" / container / "cpuacct.usage",
        CGROUP / "cpu,cpuacct" / "docker" / container / "cpuacct.usage",
    ):
        if usage.exists():
            return int(usage.read_text()) / 1e9
    for stat in (
        CGROUP / "docker" / container / "cpu.stat",
        CGROUP / "system.slice" / f"docker-{container}.scope" / "cpu.stat",
    ):
        if stat.exists():
            fields = dict(line.split() for line in stat.read_text().splitlines() if line)
            return int(fields["usage_usec"]) / 1e6
    return None


def summarize(samples: Sequence[float]) -> dict[str, float]:
    return {
        "min_s": min(samples),
        "median_s": statistics.median(samples),
        "max_s": max(samples),
    }


def measure(runs: int = 5, arches: Sequence[str] = ("x86_64", "arm64")) -> dict[str, Any]:
    """ApiFunction and hello-world, alternating (A B, B A, ...), ``runs`` fresh containers each
    per arch.

    The ratios are in ``ratios``.
    """
    rie = rie_directory()
    packages = {}
    for name in arches:
        arch = ARCHITECTURES[name]
        packages[name] = {FUNCTION: build_package(arch), HELLO: build_hello_package(arch)}
    handlers = {FUNCTION: HANDLER, HELLO: HELLO_HANDLER}
    samples: dict[str, dict[str, list[dict[str, float]]]] = {
        name: {function: [] for function in handlers} for name in arches
    }
    steal: dict[str, list[float]] = {name: [] for name in arches}
    for run in range(runs):  # interleaved, so background load hits all alike
        # Each pair's order alternates (A B, B A, ...): neither function always goes first.
        order = list(handlers.items())[:: -1 if run % 2 else 1]
        for name in arches:
            before = cpu_ticks()
            for function, handler in order:
                samples[name][function].append(
                    cold_start(ARCHITECTURES[name], packages[name][function], rie, handler)
                )
            steal[name].append(shares_between(before, cpu_ticks()).get("steal", 0.0))
    result: dict[str, Any] = {"runs": runs, "function": FUNCTION}
    for name, by_function in samples.items():
        result[name] = {"image": ARCHITECTURES[name].lambda_runtime}
        for function, runs_of in by_function.items():
            result[name][function] = {
                "invoke_to_response": summarize([r["invoke_to_response_s"] for r in runs_of]),
                "container_to_response": summarize([r["container_to_response_s"] for r in runs_of]),
                "all": runs_of,
            }
        result[name].update(ratios(by_function[FUNCTION], by_function[HELLO], steal[name]))
    return result


def ratios(
    function: Sequence[dict[str, float]], hello: Sequence[dict[str, float]], steal: Sequence[float]
) -> dict[str, Any]:
    """ApiFunction against hello-world, from the pairs the hypervisor left alone (steal at most
    STEAL_LIMIT; every pair when fewer than half were):

    - ``ratio``: of the medians of the invocation-to-response times, the goal's figure;
    - ``pair_ratio``: the median of each pair's ratio (ApiFunction and the hello-world
      container timed beside it, so in the same state of this machine, which moves between a
      fast and a slow one: about 0.40 against 0.62 s for one container);
    - ``cpu_ratio``: of the medians of the containers' CPU time over the same span, which the
      waiting other work on the machine causes leaves out (where the cgroup can be read).
    """
    pairs = list(zip(function, hello, steal, strict=True))
    undisturbed = [pair for pair in pairs if pair[2] <= STEAL_LIMIT]
    used = undisturbed if 2 * len(undisturbed) >= len(pairs) else pairs

    def ratio_of_medians(key: str) -> float:
        return statistics.median(f[key] for f, _, _ in used) / statistics.median(
            h[key] for _, h, _ in used
        )

    result: dict[str, Any] = {
        "ratio": ratio_of_medians(WALL),
        "pair_ratio": statistics.median(f[WALL] / h[WALL] for f, h, _ in used),
        "pairs_used": len(used),
        "undisturbed_only": used is undisturbed,
        "steal": list(steal),
    }
    if all(CPU in f and CPU in h for f, h, _ in used):
        result["cpu_ratio"] = ratio_of_medians(CPU)
    return result


WALL = "invoke_to_response_s"
CPU = "invoke_to_response_cpu_s"


def report(result: dict[str, Any]) -> str:
    lines = [
        f"{result['function']} and {HELLO} cold start in fresh runtime containers"
        f" ({result['runs']} each, alternating)"
    ]
    lines.append(
        f"  {'arch':<8} {'function':<12} {'invocation to response (min / median / max)':<46}"
        " docker run to response (median)"
    )
    for name in ("x86_64", "arm64"):
        if name not in result:
            continue
        for function in (FUNCTION, HELLO):
            invoke = result[name][function]["invoke_to_response"]
            total = result[name][function]["container_to_response"]
            figures = f"{invoke['min_s']:.2f} / {invoke['median_s']:.2f} / {invoke['max_s']:.2f} s"
            lines.append(f"  {name:<8} {function:<12} {figures:<46} {total['median_s']:.2f} s")
        note = "" if name == "x86_64" else " (under qemu: not a timing)"
        x = result[name]
        kept = "undisturbed" if x["undisturbed_only"] else "all: too few undisturbed"
        cpu = f", CPU time {x['cpu_ratio']:.2f}x" if "cpu_ratio" in x else ""
        lines.append(
            f"  {name:<8} ratio of the medians {x['ratio']:.2f}x{note}"
            f" ({x['pairs_used']} pairs, {kept}, steal at most {STEAL_LIMIT:.0%});"
            f" median of the pairs' ratios {x['pair_ratio']:.2f}x{cpu}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.runtime_coldstart", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--arch", action="append", choices=sorted(ARCHITECTURES))
    parser.add_argument("--json", type=Path, help="also write the figures there")
    args = parser.parse_args(argv)
    result = measure(args.runs, args.arch or ("x86_64", "arm64"))
    result["machine"] = describe()
    print(report(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
