"""The images skylane builds and runs here: stand-in bases, the Lambda runtime stand-in, the worker.

Stand-ins are named ``skylane-local/...`` and are rebuilt only when their recipe changes (a
digest of it is kept as a label). Where a registry is reachable the real bases serve instead:
the worker's Dockerfile defaults to ``python:3.13-slim`` and SAM CLI pulls its own images.
"""

import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.images import rootfs

REPO_ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LAMBDA_RUNTIME_RECIPE = HERE / "lambda_runtime"
INVOKE_IMAGE_DOCKERFILE = LAMBDA_RUNTIME_RECIPE / "Dockerfile.invoke"
WORKER_DOCKERFILE = REPO_ROOT / "functions" / "worker" / "Dockerfile"
# The worker's dependencies per architecture, inside the build context (.dockerignore).
WORKER_DEPS = REPO_ROOT / ".local" / "worker-deps"
UV = REPO_ROOT / ".local" / "tools" / "bin" / "uv"
SCRATCH_ROOT = REPO_ROOT / ".local" / "images"
RECIPE_LABEL = "skylane.recipe"
LAMBDA_PYTHON = "3.13"


class ImageError(RuntimeError):
    pass


@dataclass(frozen=True)
class Architecture:
    """One CPU architecture under the names each tool gives it."""

    name: str  # Lambda's and SAM's: x86_64, arm64
    debian: str  # debootstrap's and Docker's: amd64, arm64
    pip_platform: str  # uv pip's --python-platform

    @property
    def python_base(self) -> str:
        return f"skylane-local/python:{LAMBDA_PYTHON}-{self.name}"

    @property
    def lambda_runtime(self) -> str:
        return f"skylane-local/lambda-python:{LAMBDA_PYTHON}-{self.name}"

    @property
    def invoke_image(self) -> str:
        # The name SAM CLI gives the image it derives from the stand-in (samcli's lambda_image).
        return f"skylane-local/lambda-python:rapid-{self.name}"

    @property
    def worker(self) -> str:
        return f"skylane-worker:{self.name}"


X86_64 = Architecture("x86_64", "amd64", "x86_64-manylinux_2_28")
ARM64 = Architecture("arm64", "arm64", "aarch64-manylinux_2_28")
ARCHITECTURES = {arch.name: arch for arch in (X86_64, ARM64)}


def host_architecture() -> Architecture:
    return ARM64 if platform.machine() in ("aarch64", "arm64") else X86_64


def _digest(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def image_label(tag: str, label: str) -> str | None:
    """Label ``label`` of image ``tag``, or None when there is no such image or label."""
    inspected = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", tag],
        capture_output=True,
        text=True,
        check=False,
    )
    if inspected.returncode != 0:
        return None
    labels = json.loads(inspected.stdout) or {}
    value = labels.get(label)
    return value if isinstance(value, str) else None


def image_recipe(tag: str) -> str | None:
    """The recipe digest of image ``tag``, or None when there is no such image."""
    return image_label(tag, RECIPE_LABEL)


def image_id(tag: str) -> str:
    return subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", tag],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _scratch(prefix: str) -> Path:
    SCRATCH_ROOT.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=SCRATCH_ROOT))


def ensure_python_base(arch: Architecture) -> str:
    """Debian trixie's Python 3.13 for ``arch``, debootstrapped once per recipe."""
    recipe = _digest(Path(rootfs.__file__).read_bytes(), arch.name)
    if image_recipe(arch.python_base) == recipe:
        return arch.python_base
    print(f"building {arch.python_base} from Debian packages (debootstrap)", flush=True)
    target = _scratch(f"rootfs-{arch.name}-")
    try:
        rootfs.debootstrap(arch.debian, target)
        rootfs.load_rootfs(
            target, arch.python_base, arch.debian, {RECIPE_LABEL: recipe}, ["python3"]
        )
    finally:
        shutil.rmtree(target, ignore_errors=True)
    return arch.python_base


def export_requirements(groups: Sequence[str], only: bool = False) -> str:
    """The locked requirements of dependency ``groups`` (without the project itself)."""
    selection = [f"--only-group={group}" if only else f"--group={group}" for group in groups]
    return subprocess.run(
        [
            str(UV),
            "export",
            "--frozen",
            "--no-dev",
            "--no-emit-project",
            "--no-hashes",
            "--quiet",
            *selection,
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    ).stdout


def pip_install_for(arch: Architecture, requirements: str, target: Path) -> None:
    """Cross-install wheels for Lambda's Python on ``arch`` into ``target``: no emulation needed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    requirements_file = target.parent / f"{target.name}.pending-requirements.txt"
    requirements_file.write_text(requirements)
    subprocess.run(
        [
            str(UV),
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--python-platform",
            arch.pip_platform,
            "--python-version",
            LAMBDA_PYTHON,
            "--only-binary",
            ":all:",
            "--target",
            str(target),
            "-r",
            str(requirements_file),
        ],
        check=True,
        cwd=REPO_ROOT,
    )


def docker_build(
    tag: str, dockerfile: Path, context: Path, build_args: dict[str, str], labels: dict[str, str]
) -> None:
    command = ["docker", "build", "--quiet", "--force-rm", "--tag", tag, "--file", str(dockerfile)]
    for name, value in build_args.items():
        command += ["--build-arg", f"{name}={value}"]
    for name, value in labels.items():
        command += ["--label", f"{name}={value}"]
    # The classic builder: Debian's engine has no BuildKit plugin, and it reuses layers as well.
    built = subprocess.run(
        [*command, str(context)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )
    if built.returncode != 0:
        raise ImageError(f"docker build of {tag} failed:\n{built.stdout}{built.stderr}")


def ensure_lambda_runtime(arch: Architecture) -> str:
    """The Lambda python3.13 runtime stand-in for ``arch`` (``sam local --invoke-image``)."""
    base = ensure_python_base(arch)
    requirements = export_requirements(["lambda-runtime"], only=True)
    recipe = _digest(
        (LAMBDA_RUNTIME_RECIPE / "Dockerfile").read_bytes(),
        (LAMBDA_RUNTIME_RECIPE / "bootstrap").read_bytes(),
        requirements,
        image_id(base),
    )
    if image_recipe(arch.lambda_runtime) == recipe:
        return arch.lambda_runtime
    print(f"building {arch.lambda_runtime}", flush=True)
    context = _scratch(f"lambda-runtime-{arch.name}-")
    try:
        pip_install_for(arch, requirements, context / "runtime")
        shutil.copy2(LAMBDA_RUNTIME_RECIPE / "bootstrap", context / "bootstrap")
        docker_build(
            arch.lambda_runtime,
            LAMBDA_RUNTIME_RECIPE / "Dockerfile",
            context,
            {"BASE_IMAGE": base},
            {RECIPE_LABEL: recipe},
        )
    finally:
        shutil.rmtree(context, ignore_errors=True)
    return arch.lambda_runtime


def ensure_invoke_image(arch: Architecture, rie: Path) -> str:
    """The stand-in with ``rie``, SAM CLI's Runtime Interface Emulator for this machine, under
    the name SAM CLI looks for before it derives an image of its own (docs: Containers).

    SAM CLI would add the emulator of the function's architecture, which under qemu listens
    after SAM CLI has given up handing it the event; the emulator stands in for the Lambda
    service, so running it natively leaves the function's own process on its architecture.
    """
    base = ensure_lambda_runtime(arch)
    recipe = _digest(INVOKE_IMAGE_DOCKERFILE.read_bytes(), rie.read_bytes(), image_id(base))
    if image_recipe(arch.invoke_image) == recipe:
        return arch.invoke_image
    print(f"building {arch.invoke_image}", flush=True)
    context = _scratch(f"invoke-image-{arch.name}-")
    try:
        shutil.copy2(rie, context / "aws-lambda-rie")
        docker_build(
            arch.invoke_image,
            INVOKE_IMAGE_DOCKERFILE,
            context,
            {"BASE_IMAGE": base},
            {RECIPE_LABEL: recipe},
        )
    finally:
        shutil.rmtree(context, ignore_errors=True)
    return arch.invoke_image


def build_worker(arch: Architecture) -> str:
    """functions/worker/Dockerfile on the stand-in base; Docker's layer cache makes reruns quick."""
    base = ensure_python_base(arch)
    deps = WORKER_DEPS / arch.name
    requirements = export_requirements(["worker"])
    installed = deps.parent / f"{arch.name}.requirements.txt"
    if not installed.exists() or installed.read_text() != requirements:
        shutil.rmtree(deps, ignore_errors=True)
        pip_install_for(arch, requirements, deps)
        installed.write_text(requirements)
    print(f"building {arch.worker}", flush=True)
    docker_build(
        arch.worker,
        WORKER_DOCKERFILE,
        REPO_ROOT,
        {"BASE_IMAGE": base, "WORKER_DEPS": str(deps.relative_to(REPO_ROOT))},
        {},
    )
    return arch.worker
