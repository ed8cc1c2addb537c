"""Unzipped size of each function package that ``make build`` (sam build) produces."""

import subprocess
from pathlib import Path
from typing import Any

from bench.machine import REPO_ROOT

BUILD_DIR = REPO_ROOT / ".aws-sam" / "build"
FUNCTIONS = ("ApiFunction", "SchedulerFunction", "LightFunction")
MB = 1_000_000
# The biggest top-level entries of each package, so a regression says where it came from.
TOP_ENTRIES = 8
KB = 1_000
# skylane's own code in a package: the runtime and the function's folder(s).
OWN_CODE = ("skylane", "functions")
# What no Lambda package may hold: the skylane command, the local stack and the tests.
TOOLS = ("skylane_cli", "infra", "bench", "tests")


def tree_size(path: Path) -> int:
    """The sum of file sizes (not disk blocks), as Lambda counts the unzipped package."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def build() -> None:
    subprocess.run(["make", "build"], cwd=REPO_ROOT, check=True, capture_output=True)


def measure(skip_build: bool = False) -> dict[str, Any]:
    if not skip_build:
        build()
    sizes: dict[str, Any] = {}
    for function in FUNCTIONS:
        root = BUILD_DIR / function
        if not root.is_dir():
            raise FileNotFoundError(f"{root} is missing: run make build")
        entries = sorted(
            (
                (entry.name, tree_size(entry) if entry.is_dir() else entry.stat().st_size)
                for entry in root.iterdir()
            ),
            key=lambda pair: -pair[1],
        )
        has_boto3 = (root / "boto3").exists() or (root / "botocore").exists()
        sizes[function] = {
            "bytes": tree_size(root),
            "mb": round(tree_size(root) / MB, 1),
            "contains_boto3": has_boto3,
            "largest": {name: round(size / MB, 2) for name, size in entries[:TOP_ENTRIES]},
            "own_code_kb": round(sum(tree_size(root / name) for name in OWN_CODE) / KB, 1),
            "tools_included": [name for name in TOOLS if (root / name).exists()],
        }
    return sizes
