"""Size of each image `make images` builds, as the engine reports it (uncompressed layers)."""

import subprocess
from typing import Any

from infra.images.build import ARCHITECTURES

MB = 1_000_000


def image_bytes(tag: str) -> int | None:
    inspected = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Size}}", tag],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(inspected.stdout) if inspected.returncode == 0 else None


def measure() -> dict[str, Any]:
    """Each image's size in MB by tag; None for an image that is not built (or no engine)."""
    sizes: dict[str, Any] = {}
    for arch in ARCHITECTURES.values():
        for tag in (arch.worker, arch.lambda_runtime, arch.python_base):
            size = image_bytes(tag)
            sizes[tag] = None if size is None else round(size / MB, 1)
    return sizes
