"""The machine a run happened on."""

import os
import platform
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
# A measurement during which the hypervisor gave more than this share of the machine's CPU to
# other guests (steal) was slowed by something outside the bench: a third of the CPU stolen
# made a skylane throughput run three times slower here, while the naive port, which waits on
# its polling interval more than on CPU, barely moved.
STEAL_LIMIT = 0.05


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def describe() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def cpu_ticks() -> list[int]:
    """The machine's CPU time so far by kind, from /proc/stat (Linux): user, nice, system,
    idle, iowait, irq, softirq, steal; empty where there is no /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return []
    return [int(value) for value in fields[1:9]]


def shares_between(before: list[int], after: list[int]) -> dict[str, float]:
    """What share of the machine's CPU time went where between two cpu_ticks readings: busy
    (everything but idle and iowait) and steal (time the hypervisor gave to other guests,
    which makes everything here slower at once)."""
    if len(before) < 8 or len(after) < 8:
        return {}
    delta = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(delta) or 1
    idle = delta[3] + delta[4]
    return {"busy": round((total - idle) / total, 3), "steal": round(delta[7] / total, 3)}
