"""Code run in a new interpreter, as a cold start runs it: nothing this test process imported
is loaded there."""

import subprocess
import sys
from typing import Any


def run_fresh(aws: dict[str, Any], code: str) -> str:
    """Run ``code`` in a new Python with the emulated stack's settings; the last line it printed
    (it must succeed)."""
    env = {key: value for key, value in aws.items() if isinstance(value, str)}
    env |= {"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    probe = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    return probe.stdout.strip().splitlines()[-1]
