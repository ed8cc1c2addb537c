"""The Docker engine the image builds and container tests use, started here when none runs.

``python -m infra.images.engine -- CMD ...`` runs CMD with an engine up and stops the engine
afterwards if it was this command that started it. The engine's bridge reaches only this
machine: no iptables rules, no masquerading, no forwarding.
"""

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

DOCKERD_FLAGS = ("--iptables=false", "--ip-masq=false", "--ip-forward=false")
DOCKERD_LOG = Path(__file__).resolve().parents[2] / ".local" / "dockerd.log"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0
BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")


class EngineError(RuntimeError):
    pass


def engine_running() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def start_engine() -> subprocess.Popen[bytes]:
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise EngineError("no dockerd on PATH: `make image-tools` installs docker.io")
    DOCKERD_LOG.parent.mkdir(parents=True, exist_ok=True)
    with DOCKERD_LOG.open("ab") as log:
        process = subprocess.Popen(
            [dockerd, *DOCKERD_FLAGS], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not engine_running():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_engine(process)
            raise EngineError(f"dockerd did not start; its log is {DOCKERD_LOG}")
        time.sleep(0.5)
    return process


def stop_engine(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def enable_arm64_emulation() -> None:
    """Let arm64 binaries run through qemu-user (images built and run for Lambda and Fargate)."""
    if (BINFMT_DIR / "qemu-aarch64").exists():
        return
    if not (BINFMT_DIR / "register").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT_DIR)], check=True)
    subprocess.run(["update-binfmts", "--enable", "qemu-aarch64"], check=True)
    if not (BINFMT_DIR / "qemu-aarch64").exists():
        raise EngineError("qemu-aarch64 is not registered: `make image-tools` installs it")


@contextmanager
def docker_engine() -> Iterator[None]:
    """An engine for the duration of the block: the one that runs, or one started for it."""
    if engine_running():
        yield
        return
    process = start_engine()
    try:
        yield
    finally:
        stop_engine(process)


def main(argv: Sequence[str]) -> int:
    command = list(argv[1:] if argv[:1] == ["--"] else argv)
    if not command:
        print("usage: python -m infra.images.engine -- COMMAND [ARG ...]", file=sys.stderr)
        return 2
    enable_arm64_emulation()
    with docker_engine():
        return subprocess.run(command, check=False, env=os.environ.copy()).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
