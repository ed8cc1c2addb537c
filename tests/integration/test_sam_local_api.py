"""`sam local start-api` serving the built ApiFunction package in the arm64 runtime stand-in
(under qemu on an x86_64 machine), against the session's stack: the container reaches the
emulator over Docker's bridge as host.docker.internal, with the stack's environment, and the
session's worker runs what it accepts. The same command as `make start-api` (infra/sam_local.py).
"""

import json
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from infra.emulator import free_port
from infra.processes import ChildProcess
from infra.sam_local import derived_image, stand_in_image
from infra.template import API_FUNCTION
from tests.integration.conftest import LocalStack
from tests.integration.sam_cli import (
    built_packages,
    function_containers,
    no_container_left,
    reachable_from_containers,
    sam_local_for,
)
from tests.integration.waiting import wait_until

# The module fixture (a cold start under qemu) counts against its first test.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

# The first request starts the function's container and imports the app under qemu; later
# ones reuse it (--warm-containers EAGER).
FIRST_ANSWER_SECONDS = 240
# The first submission imports Celery and the broker under qemu too (46 s here once; over 60 s
# in a fresh-clone run): a slow emulator, not a slow function.
REQUEST_SECONDS = 180
STOP_SECONDS = 120
# What `make start-api` runs SAM CLI under (infra/sam_local.py run_supervised): one SIGINT for
# SAM CLI, and any function container it leaves is removed. SAM CLI alone sometimes leaves one
# after its Ctrl-C with the arm64 stand-in: a warm container it did not remove, or a second
# ApiFunction container it started at the first request and never tracked.
SUPERVISED = (
    "import json, os, sys; from pathlib import Path; from infra.sam_local import run_supervised; "
    "sys.exit(run_supervised(json.loads(sys.argv[1]), os.environ, Path(sys.argv[2])))"
)


def supervised(argv: Sequence[str], build_dir: Path) -> list[str]:
    return [sys.executable, "-c", SUPERVISED, json.dumps(list(argv)), str(build_dir)]


class SamApi:
    def __init__(self, process: ChildProcess, port: int) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=REQUEST_SECONDS)

    def post(self, path: str, body: object) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", json=body, timeout=REQUEST_SECONDS)


def first_answer(api: SamApi) -> None:
    def health() -> bool:
        assert api.process.running, api.process.describe_failure("exited")
        try:
            return api.get("/health").status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(health, FIRST_ANSWER_SECONDS, "GET /health through sam local start-api", 1.0)


def stop_gracefully(process: ChildProcess) -> None:
    """Ctrl-C, as a user stops it: SAM CLI then stops and removes its warm containers."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def sam_api(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamApi]:
    with (
        no_container_left("sam local start-api"),
        reachable_from_containers(local_stack.emulator),
    ):
        sam = sam_local_for(
            local_stack.stack,
            local_stack.emulator,
            local_stack.identities,
            tmp_path_factory.mktemp("sam-api"),
        )
        port = free_port()
        argv = supervised(sam.start_api(port), built_packages())
        process = ChildProcess("sam-api", argv, sam.environment(API_FUNCTION), local_stack.logs)
        api = SamApi(process, port)
        try:
            first_answer(api)
            yield api
        finally:
            stop_gracefully(process)


def test_an_email_job_is_accepted_run_by_the_worker_and_followed_through_sam(
    sam_api: SamApi, local_stack: LocalStack
) -> None:
    answer = sam_api.post(
        "/send-email", {"email": "user@example.com", "subject": "Hi", "body": "from sam local"}
    )

    assert answer.status_code == 202, answer.text
    job_id = answer.json()["task_id"]
    # The container wrote the record into the session stack's table, through the emulator.
    item = local_stack.client("dynamodb").get_item(
        TableName=local_stack.table, Key={"job_id": {"S": job_id}}
    )
    assert "Item" in item, f"job {job_id} is not in {local_stack.table}"
    states: list[str] = []

    def succeeded() -> bool:
        view = sam_api.get(f"/task/{job_id}")
        assert view.status_code == 200, view.text
        states.append(view.json()["state"])
        return states[-1] == "SUCCESS"

    wait_until(succeeded, 90, f"job {job_id} SUCCESS through sam (saw {states})", 0.5)
    worker_logs = "".join(
        local_stack.logs.path(worker.name).read_text() for worker in local_stack.workers
    )
    assert job_id in worker_logs


def test_the_queues_it_reads_are_the_stacks(sam_api: SamApi, local_stack: LocalStack) -> None:
    answer = sam_api.get("/queues")

    assert answer.status_code == 200, answer.text
    names = {queue["name"] for queue in answer.json().values()}
    assert {"high", "default"} <= names


def test_the_dashboard_and_the_docs_are_served(sam_api: SamApi) -> None:
    dashboard = sam_api.get("/dashboard")
    docs = sam_api.get("/docs")
    schema = sam_api.get("/openapi.json")

    assert dashboard.status_code == 200, dashboard.text
    assert dashboard.headers["content-type"].startswith("text/html")
    assert "<title>" in dashboard.text
    assert docs.status_code == 200, docs.text
    assert "swagger-ui" in docs.text
    assert schema.status_code == 200
    assert "/send-email" in schema.json()["paths"]


def test_bad_input_is_refused_with_422(sam_api: SamApi) -> None:
    answer = sam_api.post(
        "/send-email", {"email": "not-an-email", "subject": "Hi", "body": "Hello"}
    )

    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "email"]


def test_the_container_runs_the_built_package_in_the_arm64_runtime(sam_api: SamApi) -> None:
    # The one that answers, and any second one SAM CLI started (see SUPERVISED): all alike.
    containers = function_containers("ApiFunction")
    assert containers, "no running ApiFunction container"
    for container in containers:
        mounts = {mount["Destination"]: Path(mount["Source"]) for mount in container["Mounts"]}

        # The package sam build made, not the source tree, in the stand-in's invoke image (SAM
        # CLI's Runtime Interface Emulator added) for the function's architecture.
        assert mounts["/var/task"] == (built_packages() / "ApiFunction").resolve()
        assert container["Config"]["Image"] == derived_image(stand_in_image("arm64"), "arm64")
        architecture = subprocess.run(
            ["docker", "image", "inspect", "--format", "{{.Architecture}}", container["Image"]],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert architecture == "arm64"
        # The function's own interpreter is the arm64 one (qemu), whatever the emulator runs as.
        machine = subprocess.run(
            [
                "docker",
                "exec",
                container["Id"],
                "python3",
                "-c",
                "import platform; print(platform.machine())",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert machine == "aarch64"
