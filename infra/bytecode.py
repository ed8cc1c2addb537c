"""Python 3.13 bytecode for a Lambda package, compiled by a Python 3.13.

``python -m infra.bytecode DIR [DIR ...] [--stamp FILE]`` compiles every module under each
DIR with ``python3.13`` when one is on PATH, else in the Python 3.13 stand-in image
(skylane-local/python:3.13-<arch>, which `make images` builds) on a running engine. When
neither is there it says so and leaves DIR as it is: the package still works, its cold starts
compile instead (README, *Cold start in the Lambda runtime*). ``--stamp`` is touched only
after a compile.
"""

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from infra.images.build import (
    ARCHITECTURES,
    LAMBDA_PYTHON,
    ensure_python_base,
    host_architecture,
    image_recipe,
)
from infra.images.engine import engine_running

# Lambda unpacks the zip with the timestamps it stores (2 s steps), so a timestamp-checked .pyc
# could look stale; the package never changes once built, so nothing needs checking.
COMPILEALL = ("-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash")
PACKAGE_MOUNT = "/package"


def compiler_image() -> str | None:
    """A Python 3.13 stand-in image on the running engine, this machine's architecture first;
    built (debootstrap, once) when there is none and it can be."""
    if not engine_running():
        return None
    native = host_architecture()
    others = [arch for arch in ARCHITECTURES.values() if arch != native]
    for arch in (native, *others):
        if image_recipe(arch.python_base) is not None:
            return arch.python_base
    if shutil.which("debootstrap") is not None:
        return ensure_python_base(native)
    return None


def local_python() -> str | None:
    """A python3.13 on PATH that runs (a pyenv shim may name a version it lacks)."""
    found = shutil.which(f"python{LAMBDA_PYTHON}")
    if found is None:
        return None
    probe = subprocess.run(
        [found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found if probe.returncode == 0 and probe.stdout.strip() == LAMBDA_PYTHON else None


def compile_command(directories: Sequence[Path]) -> list[str] | None:
    """How to compile ``directories`` with a Python 3.13 in one process, or None when none is
    at hand."""
    local = local_python()
    if local is not None:
        return [local, *COMPILEALL, *map(str, directories)]
    image = compiler_image()
    if image is None:
        return None
    mounts = [f"{PACKAGE_MOUNT}/{index}" for index in range(len(directories))]
    argv = ["docker", "run", "--rm", "--network", "none"]
    argv += ["--user", f"{os.getuid()}:{os.getgid()}"]
    for directory, mount in zip(directories, mounts, strict=True):
        argv += ["--volume", f"{directory.resolve()}:{mount}"]
    return [*argv, "--entrypoint", "python3", image, *COMPILEALL, *mounts]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.bytecode", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("directories", nargs="+", type=Path)
    parser.add_argument("--stamp", type=Path, help="touched once the directories are compiled")
    args = parser.parse_args(argv)
    command = compile_command(args.directories)
    if command is None:
        print(
            f"infra.bytecode: no python{LAMBDA_PYTHON} on PATH and no Python {LAMBDA_PYTHON}"
            " stand-in on a running engine (make images): packaged without bytecode, so each"
            " cold start compiles what it imports",
            file=sys.stderr,
        )
        return 0
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    if args.stamp is not None:
        args.stamp.touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
