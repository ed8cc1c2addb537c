"""Reading the children's log files (``local_stack.logs_dir/<name>.log``).

The Python children log one JSON object a line (Powertools); other lines (uvicorn's, a
traceback's) are not JSON. A child's output reaches its file through a reader thread, so the
last line may be half written when a test reads it.
"""

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every JSON line of a log, leaving out the other lines and a half-written last one."""
    lines = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if raw.startswith("{"):
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                continue
    return lines


def job_lines(path: Path, job_id: str) -> list[dict[str, Any]]:
    """The JSON lines of a log about one job (the worker's and Celery's carry its id)."""
    return [line for line in json_lines(path) if line.get("job_id") == job_id]


def job_messages(path: Path, job_id: str) -> list[str]:
    """The messages of a log's lines about one job, in the order they were written."""
    return [str(line.get("message", "")) for line in job_lines(path, job_id)]


def starts_logged(logs_dir: Path, job_id: str, pattern: str = "worker-*.log") -> int:
    """How many times a worker logged 'job started' for the job, over the workers' logs that
    ``pattern`` names (every worker's by default)."""
    return sum(job_messages(log, job_id).count("job started") for log in logs_dir.glob(pattern))


def wait_for_lines(
    path: Path, wanted: Callable[[dict[str, Any]], bool], timeout: float = 30
) -> list[dict[str, Any]]:
    """The JSON lines of a log that ``wanted`` accepts, once there is at least one (or none
    after ``timeout`` s, for the caller to say what is missing).

    A line reaches the file a moment after the job's state is written: wait for it rather
    than race it.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in json_lines(path) if wanted(line)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)
