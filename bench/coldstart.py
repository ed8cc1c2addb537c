"""Cold start: import-and-first-request time of a handler, each in a fresh interpreter."""

import json
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.machine import REPO_ROOT

API_HANDLER = "functions.api.handler"
HELLO_HANDLER = "bench.hello"
# The API's settings as the template gives them; /health makes no AWS call.
API_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "SKYLANE_STAGE": "local",
    "POWERTOOLS_SERVICE_NAME": "skylane",
}


def probe(module: str, env: dict[str, str]) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.coldstart_probe", module],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"cold start probe of {module} failed:\n{done.stderr[-2000:]}")
    timings: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    timings["process_wall_s"] = wall
    return timings


def measure(runs: int, base_env: dict[str, str]) -> dict[str, Any]:
    env = {**base_env, **API_ENV, "PYTHONDONTWRITEBYTECODE": "0"}
    # One untimed run each: bytecode compiled and the files in the page cache, as on Lambda
    # (whose package ships .pyc-free but whose disk cache is warm for repeated cold starts).
    probe(API_HANDLER, env)
    probe(HELLO_HANDLER, env)
    samples: dict[str, list[dict[str, float]]] = {API_HANDLER: [], HELLO_HANDLER: []}
    for _ in range(runs):  # interleaved, so background load hits both alike
        for module in samples:
            samples[module].append(probe(module, env))
    result: dict[str, Any] = {"runs": runs}
    for module, runs_of in samples.items():
        result[module] = {key: statistics.median(r[key] for r in runs_of) for key in runs_of[0]} | {
            "import_and_first_request_all_s": [r["import_and_first_request_s"] for r in runs_of]
        }
    for kind, key in (
        ("ratio", "import_and_first_request_s"),
        ("cpu_ratio", "import_and_first_request_cpu_s"),
    ):
        result[kind] = result[API_HANDLER][key] / result[HELLO_HANDLER][key]
    return result
