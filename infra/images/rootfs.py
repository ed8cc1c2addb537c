"""Base images made from Debian packages, for machines that reach no image registry.

debootstrap lays out a minimal Debian with Python, written in ``docker save`` form with its real
architecture and loaded (``docker import`` would record the engine's own).
"""

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

DEBIAN_SUITE = "trixie"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# Python 3.13, as on Lambda's python3.13 and in python:3.13-slim; venv for the worker's deps.
PACKAGES = ("python3", "python3-venv", "ca-certificates")
# What an image never uses: apt's indexes and caches, documentation, translations.
TRIMMED = (
    "var/cache/apt",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
)
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def debootstrap(arch: str, target: Path, packages: Sequence[str] = PACKAGES) -> None:
    """A minimal Debian for ``arch`` (Debian's name: amd64, arm64) in ``target``."""
    subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--arch={arch}",
            f"--include={','.join(packages)}",
            DEBIAN_SUITE,
            str(target),
            DEBIAN_MIRROR,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    for relative in TRIMMED:
        directory = target / relative
        if directory.is_dir():
            shutil.rmtree(directory)
            directory.mkdir()


def _layer(rootfs: Path, destination: Path) -> str:
    """Write ``rootfs`` as an uncompressed layer tar; return its sha256 (the layer's diff id)."""
    subprocess.run(
        ["tar", "--numeric-owner", "--xattrs", "-C", str(rootfs), "-cf", str(destination), "."],
        check=True,
    )
    digest = hashlib.sha256()
    with destination.open("rb") as written:
        for chunk in iter(lambda: written.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def load_rootfs(
    rootfs: Path, tag: str, architecture: str, labels: Mapping[str, str], cmd: Sequence[str]
) -> None:
    """Load ``rootfs`` into the engine as image ``tag`` for ``architecture`` (amd64, arm64)."""
    with tempfile.TemporaryDirectory(prefix="skylane-image-") as scratch:
        layer_path = Path(scratch) / "layer.tar"
        diff_id = _layer(rootfs, layer_path)
        config = json.dumps(
            {
                "architecture": architecture,
                "os": "linux",
                "config": {"Env": [f"PATH={PATH}"], "Cmd": list(cmd), "Labels": dict(labels)},
                "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
            }
        ).encode()
        config_name = f"{hashlib.sha256(config).hexdigest()}.json"
        manifest = json.dumps(
            [{"Config": config_name, "RepoTags": [tag], "Layers": [f"{diff_id}/layer.tar"]}]
        ).encode()
        archive_path = Path(scratch) / "image.tar"
        with tarfile.open(archive_path, "w") as archive:
            _add_bytes(archive, config_name, config)
            _add_bytes(archive, "manifest.json", manifest)
            archive.add(layer_path, arcname=f"{diff_id}/layer.tar")
        layer_path.unlink()
        subprocess.run(
            ["docker", "load", "--quiet", "--input", str(archive_path)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
