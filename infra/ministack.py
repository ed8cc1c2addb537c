"""MiniStack, a second emulator, run in a tool environment of its own as SAM CLI is.

`make ministack` installs it (uv tool run, pinned); ``launch`` starts it on one address (loopback
by default, never every address) and port, its output in .local/ministack-PORT.log.
"""

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
VERSION = "1.5.33"
HEALTH_PATH = "/_ministack/health"
LOG_DIRECTORY = REPO_ROOT / ".local"
START_TIMEOUT_SECONDS = 60.0


def uv() -> str:
    """The Makefile's uv (.local/tools/bin/uv), else one on PATH."""
    local = REPO_ROOT / ".local" / "tools" / "bin" / "uv"
    if local.exists():
        return str(local)
    found = shutil.which("uv")
    if found is None:
        raise FileNotFoundError("no uv to run MiniStack with: run `make install` first")
    return found


def command(offline: bool = True) -> list[str]:
    """MiniStack from its own pinned environment; offline once `make ministack` installed it."""
    return [
        uv(),
        "tool",
        "run",
        "--quiet",
        *(["--offline"] if offline else []),
        "--from",
        f"ministack=={VERSION}",
        "ministack",
    ]


def launch(port: int, bind: str, log_path: Path | None = None) -> "subprocess.Popen[bytes]":
    """Start MiniStack listening on ``bind``:``port`` only."""
    log_path = log_path or LOG_DIRECTORY / f"ministack-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # Nothing of ours reaches it: not the caller's AWS_* (it runs scripts with its environment).
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env |= {"GATEWAY_PORT": str(port), "BIND_HOST": bind, "LOG_LEVEL": "WARNING"}
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command(),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_ready(
    url: str, process: "subprocess.Popen[bytes]", timeout: float = START_TIMEOUT_SECONDS
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"MiniStack exited with {process.returncode} before answering at {url} (is it "
                "installed? `make ministack`; its output is in .local/ministack-PORT.log)"
            )
        try:
            with urllib.request.urlopen(url + HEALTH_PATH, timeout=1.0):  # noqa: S310 (http://)
                return
        except (urllib.error.URLError, OSError) as error:
            if time.monotonic() > deadline:
                raise TimeoutError(f"MiniStack did not answer at {url}: {error}") from error
            time.sleep(0.2)
