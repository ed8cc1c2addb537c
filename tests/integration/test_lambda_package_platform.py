"""The native code that runs in the arm64 runtime is the code `sam build` picked for python3.13
on arm64: the built ApiFunction package mounted at /var/task of the arm64 runtime stand-in (as
Lambda and `sam local` mount it), pydantic_core's extension loaded there and compared, byte for
byte, with the one in `.aws-sam/build/ApiFunction`. The bytecode each package ships is the
runtime's own: importing a handler there compiles nothing.
"""

import hashlib
import subprocess
from pathlib import Path

import pytest

from infra.sam_local import stand_in_image
from tests.integration.bytecode_probe import PROBE as PROBE_FROM_SOURCE
from tests.integration.bytecode_probe import probe_answer
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

# Handlers whose import needs no settings; the light lane's reads its queues at import.
IMPORTABLE_HANDLERS = {
    "ApiFunction": "functions.api.handler",
    "SchedulerFunction": "functions.scheduler.handler",
}
# A .pyc's flags word (PEP 552): bit 0 set, hash-based; bit 1 clear, never checked.
HASH_BASED = 0b01


def elf_machine(path: Path) -> int | None:
    with path.open("rb") as file:
        header = file.read(20)
    if not header.startswith(ELF_MAGIC):
        return None
    # e_machine: two bytes at offset 18, in the file's byte order (EI_DATA at offset 5).
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


def run_in_runtime(package: Path, *probe: str) -> dict[str, object]:
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
            *(probe or (PROBE,)),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return probe_answer(done.stdout)


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


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_module_of_a_package_ships_unchecked_python_313_bytecode(function: str) -> None:
    package = built_packages() / function
    sources = [path for path in package.rglob("*.py") if "__pycache__" not in path.parts]
    missing, checked = [], []
    for source in sources:
        cached = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        if not cached.is_file():
            missing.append(source.relative_to(package).as_posix())
            continue
        flags = int.from_bytes(cached.read_bytes()[4:8], "little")
        if flags != HASH_BASED:
            checked.append(source.relative_to(package).as_posix())

    assert len(sources) > 100
    assert missing == []
    # Never compared with the source: Lambda's zip keeps timestamps in 2 s steps.
    assert checked == []


@pytest.mark.parametrize("function", IMPORTABLE_HANDLERS)
def test_importing_a_handler_in_the_runtime_compiles_nothing(function: str) -> None:
    package = built_packages() / function
    ran = run_in_runtime(package, PROBE_FROM_SOURCE, IMPORTABLE_HANDLERS[function], "/var/task/")

    assert int(str(ran["loaded"])) > 100
    assert ran["from_source"] == []
