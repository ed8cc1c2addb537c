"""How long ``make build`` (sam build) takes: cold, with .aws-sam removed first, then warm, again
with nothing changed. uv's own wheel cache is kept: cold means SAM's and the Makefile's state
only, not a first download."""

import re
import shutil
import subprocess
import time
from typing import Any

from bench.machine import REPO_ROOT

AWS_SAM = REPO_ROOT / ".aws-sam"
# make echoes each recipe line it runs: install-deps's `uv pip install` once per function whose
# dependencies were out of date (none, when the Makefile's cache served them all).
DEPENDENCY_INSTALL = re.compile(r"^\S*uv pip install ", re.MULTILINE)


def dependency_installs(make_output: str) -> int:
    """How many functions' dependencies a build installed, from make's echo of its recipes."""
    return len(DEPENDENCY_INSTALL.findall(make_output))


def timed_build() -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        ["make", "build"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"make build failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return {
        "seconds": round(seconds, 1),
        "dependency_installs": dependency_installs(done.stdout + done.stderr),
    }


def measure() -> dict[str, Any]:
    shutil.rmtree(AWS_SAM, ignore_errors=True)
    cold = timed_build()
    warm = timed_build()
    return {"cold": cold, "warm": warm}
