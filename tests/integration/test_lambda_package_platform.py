"""The native code that runs in the arm64 runtime is the code `sam build` picked for python3.13
on arm64: the built ApiFunction package mounted at /var/task of the arm64 runtime stand-in (as
Lambda and `sam local` mount it), pydantic_core's extension loaded there and compared, byte for
byte, with the one in `.aws-sam/build/ApiFunction`.
"""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from infra.sam_local import stand_in_image
from tests.integration.sam_cli import built_packages

pytestmark = pytest.mark.integration

FUNCTIONS = ("ApiFunction", "SchedulerFunction", "LightFunction")
# ELF e_machine values.
EM_AARCH64 = 183
ELF_MAGIC = b"\x7fELF"
# Run as the stand-in's bootstrap runs a handler: the package first on the path, then the
# runtime's own libraries.
PROBE = """
import hashlib, json, platform, sys
import pydantic_core._pydantic_core as native
with open(native.__file__, "rb") as extension:
    digest = hashlib.sha256(extension.read()).hexdigest()
print(json.dumps({"machine": platform.machine(), "python": list(sys.version_info[:2]),
                  "extension": native.__file__, "sha256": digest}))
"""


def elf_machine(path: Path) -> int | None:
    with path.open("rb") as file:
        header = file.read(20)
    if not header.startswith(ELF_MAGIC):
        return None
    # e_machine: two bytes at offset 18, in the file's byte order (EI_DATA at offset 5).
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


def run_in_runtime(package: Path) -> dict[str, object]:
    done = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "--volume",
            f"{package.resolve()}:/var/task:ro",
            "--workdir",
            "/var/task",
            "--env",
            "PYTHONPATH=/var/task:/var/runtime",
            "--entrypoint",
            "python3",
            stand_in_image("arm64"),
            "-c",
            PROBE,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def test_the_arm64_runtime_loads_the_aarch64_extension_sam_build_installed() -> None:
    package = built_packages() / "ApiFunction"

    ran = run_in_runtime(package)

    assert ran["machine"] == "aarch64"
    assert ran["python"] == [3, 13]
    extension = Path(str(ran["extension"]))
    assert extension.parent == Path("/var/task/pydantic_core")
    assert extension.name.endswith(".cpython-313-aarch64-linux-gnu.so")
    built = package / "pydantic_core" / extension.name
    assert elf_machine(built) == EM_AARCH64
    assert ran["sha256"] == hashlib.sha256(built.read_bytes()).hexdigest()
    (wheel,) = package.glob("pydantic_core-*.dist-info/WHEEL")
    tags = [
        line.split(":", 1)[1].strip()
        for line in wheel.read_text().splitlines()
        if line.startswith("Tag:")
    ]
    assert tags
    assert all(tag.startswith("cp313-cp313-") and tag.endswith("aarch64") for tag in tags), tags


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_native_file_of_a_package_is_aarch64(function: str) -> None:
    package = built_packages() / function
    machines = {
        path.relative_to(package).as_posix(): elf_machine(path)
        for path in package.rglob("*")
        if path.is_file() and (path.suffix == ".so" or ".so." in path.name)
    }

    assert machines, f"{function} has no native extension"
    assert {name for name, machine in machines.items() if machine != EM_AARCH64} == set()
