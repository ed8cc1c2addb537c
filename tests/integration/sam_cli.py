"""The built Lambda packages run by SAM CLI (`sam local`) in the runtime containers, against
the session's stack: the build, the emulator on Docker's bridge, the commands, the containers.

The packages are `make build`'s (`.aws-sam/build`), built once per session: what `make build`
ships is what these tests run; with nothing changed that build takes seconds.
``SKYLANE_SAM_BUILD_DIR`` names a build to use instead (no build then).
"""

import functools
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from infra.docker_bridge import host_addresses_for_containers
from infra.emulator import Emulator
from infra.local_iam import Identities
from infra.processes import LIGHT_FUNCTION, SCHEDULER_FUNCTION
from infra.sam_local import (
    BUILD_DIR,
    STAND_IN,
    SamLocal,
    containers_of,
    inspect_containers,
    invoke_until_delivered,
    lambda_containers,
    prepare,
    remove_containers,
)
from infra.template import API_FUNCTION, DeployedStack
from infra.up import write_sam_env_vars

REPO = Path(__file__).resolve().parents[2]
BUILD_DIR_VARIABLE = "SKYLANE_SAM_BUILD_DIR"
BUILD_TIMEOUT_SECONDS = 600


@functools.cache
def built_packages() -> Path:
    """`make build`'s output directory, built (or found current by SAM CLI's cache) once."""
    prebuilt = os.environ.get(BUILD_DIR_VARIABLE)
    if prebuilt:
        return Path(prebuilt)
    built = subprocess.run(
        ["make", "--no-print-directory", "build"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    assert built.returncode == 0, (
        f"make build failed:\n{built.stdout[-3000:]}{built.stderr[-3000:]}"
    )
    return BUILD_DIR


@contextmanager
def reachable_from_containers(emulator: Emulator) -> Iterator[list[str]]:
    """The emulator also listening on Docker's bridge (Linux) for the block, as `make up` does."""
    addresses = [
        address for address in host_addresses_for_containers() if address not in emulator.listeners
    ]
    for address in addresses:
        emulator.listen_on(address)
    try:
        yield addresses
    finally:
        for address in addresses:
            emulator.stop_listening(address)


def sam_local_for(
    stack: DeployedStack, emulator: Emulator, identities: Identities, directory: Path
) -> SamLocal:
    """`sam local` for the built packages, with the stack's env-vars file as `make up` writes
    it, each function as its own role, and the stand-in runtime images: no registry needed."""
    env_vars = write_sam_env_vars(stack, emulator.endpoint, directory / "sam-env-vars.json")
    credentials = {
        function: identities.env(component)
        for function, component in (
            (API_FUNCTION, "api"),
            (SCHEDULER_FUNCTION, SCHEDULER_FUNCTION),
            (LIGHT_FUNCTION, LIGHT_FUNCTION),
        )
    }
    return prepare(
        emulator.endpoint.env(),
        STAND_IN,
        built_packages(),
        env_vars,
        function_credentials=credentials,
    )


@contextmanager
def no_container_left(what: str) -> Iterator[None]:
    """Fail if a function container of this session's build outlives the block (and remove it).

    Only containers of our build count: another checkout's tests (a fresh clone's make test)
    may run SAM CLI on this engine at the same time, and theirs are none of ours to remove.
    """
    before = lambda_containers()
    try:
        yield
    finally:
        left = containers_of(built_packages(), lambda_containers() - before)
        remove_containers(left)
        assert not left, f"{what} left containers behind: {left}"


def function_containers(function: str) -> list[dict[str, Any]]:
    """`docker inspect` of the running containers SAM CLI started for ``function``."""
    running = [
        container
        for container in inspect_containers(
            sorted(containers_of(built_packages(), lambda_containers()))
        )
        if container["State"]["Running"]
    ]
    return [c for c in running if c["Config"]["Labels"].get("sam.cli.function.name") == function]


def sam_json(argv: list[str], env: dict[str, str], timeout: float) -> Any:
    """Run a sam command that prints one JSON document on stdout (generate-event)."""
    done = subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return json_answer(done)


def invoke_json(sam: SamLocal, function: str, event: Path, timeout: float) -> Any:
    """`sam local invoke` of ``function`` with ``event`` (again if SAM CLI could not hand the
    event to the container: infra.sam_local.invoke_until_delivered); the function's answer."""
    argv = sam.invoke(function, event)
    done = invoke_until_delivered(
        argv, sam.environment(function), built_packages(), timeout=timeout, echo=True
    )
    return json_answer(done)


def json_answer(done: "subprocess.CompletedProcess[str]") -> Any:
    command = " ".join(str(part) for part in done.args[:4])
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    # sam local invoke prints the function's answer as the last line of stdout.
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert lines, f"{command} printed nothing:\n{done.stderr[-4000:]}"
    try:
        answer = json.loads(done.stdout)
    except json.JSONDecodeError:
        answer = json.loads(lines[-1])
    # A function that raised or timed out: what it and SAM CLI said is the diagnosis.
    assert not (isinstance(answer, dict) and "errorMessage" in answer), (
        f"{command} answered {answer}:\n{done.stderr[-4000:]}"
    )
    return answer
