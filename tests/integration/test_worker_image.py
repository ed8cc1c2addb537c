"""The worker image that ECS runs, run here as a container against the local stack.

The images come from ``python -m infra.images`` (``make test`` builds them first): this
machine's architecture for the jobs, arm64 (Fargate's, under qemu) for a start-up check.
"""

import subprocess
from collections.abc import Iterator

import pytest

from infra.images.build import ARM64, host_architecture
from tests.integration.bytecode_probe import PROBE, probe_answer
from tests.integration.client import follow, submit, upload
from tests.integration.conftest import LocalStack
from tests.integration.job_records import records
from tests.integration.waiting import wait_until
from tests.integration.workers import stop_every_worker
from tests.samples import pdf_bytes

pytestmark = pytest.mark.integration

# The image's own user (functions/worker/Dockerfile), never root.
IMAGE_UID = "10001"


def image_present(tag: str) -> None:
    found = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, check=False)
    assert found.returncode == 0, f"no image {tag}: `make images` builds it"


@pytest.fixture
def only_containers(local_stack: LocalStack) -> Iterator[LocalStack]:
    """The stack with its host workers stopped; one host worker again afterwards."""
    stop_every_worker(local_stack)
    try:
        yield local_stack
    finally:
        stop_every_worker(local_stack)
        local_stack.start_worker()


def test_the_worker_image_runs_the_walk_through_jobs_as_its_own_user(
    only_containers: LocalStack,
) -> None:
    image = host_architecture().worker
    image_present(image)
    worker = only_containers.start_worker_container(image)
    who = worker.docker("exec", worker.container_name, "id", "-u")
    assert who.stdout.strip() == IMAGE_UID, who.stdout + who.stderr
    writes_root = worker.docker("exec", worker.container_name, "touch", "/app/written")
    assert writes_root.returncode != 0
    assert "Read-only file system" in writes_root.stderr

    api = only_containers.api_url
    text = upload(api, "notes.txt", b"line\n" * 50_000, "text/plain")
    document = upload(api, "doc.pdf", pdf_bytes(["Hello from the image"]), "application/pdf")
    jobs = {
        "process-file": submit(api, "/process-file", {"file_path": text}),
        "process-document": submit(api, "/process-document", {"file_path": document}),
        "send-email": submit(
            api, "/send-email", {"email": "user@example.com", "subject": "Hi", "body": "Hello"}
        ),
        "generate-report": submit(
            api, "/generate-report", {"user_id": 7, "report_type": "summary"}
        ),
    }
    finals = {kind: follow(api, job_id).final for kind, job_id in jobs.items()}
    assert {kind: final["state"] for kind, final in finals.items()} == dict.fromkeys(
        jobs, "SUCCESS"
    ), finals
    assert finals["process-file"]["result"]["lines"] == 50_000
    # Every job ran in the container: it is the only worker.
    assert worker.running
    # The image ships its bytecode: a start compiles nothing (its filesystem is read-only).
    probed = worker.docker(
        "exec",
        worker.container_name,
        "python3",
        "-c",
        PROBE,
        "functions.tasks.celery_tasks",
        "/app/",
        "/opt/skylane/deps/",
    )
    assert probed.returncode == 0, probed.stderr
    imported = probe_answer(probed.stdout)
    assert imported["loaded"] > 100
    assert imported["from_source"] == []


def test_docker_stop_during_a_job_is_a_warm_shutdown_that_loses_nothing(
    only_containers: LocalStack,
) -> None:
    image = host_architecture().worker
    image_present(image)
    data = b"0123456789abcdef\n" * (2 * 1024 * 1024)  # 34 MB: each job takes a moment
    key = upload(only_containers.api_url, "big.txt", data, "text/plain")
    jobs = [submit(only_containers.api_url, "/process-file", {"file_path": key}) for _ in range(6)]
    worker = only_containers.start_worker_container(image)

    def some_job_running() -> bool:
        return any(
            item["state"]["S"] in ("STARTED", "PROGRESS")
            for item in records(only_containers, jobs).values()
        )

    wait_until(some_job_running, 60, "a job to start in the container")
    assert worker.docker_stop() == 0, worker.recent_output()
    only_containers.workers.remove(worker)
    after_stop = {job: item["state"]["S"] for job, item in records(only_containers, jobs).items()}
    # What was running finished; what had not started went back to SQS untouched.
    assert set(after_stop.values()) <= {"SUCCESS", "PENDING"}, after_stop
    assert "SUCCESS" in after_stop.values()

    only_containers.start_worker()
    for job in jobs:
        assert follow(only_containers.api_url, job, timeout=120).final["state"] == "SUCCESS"


def test_the_arm64_image_starts_under_qemu_registers_its_tasks_and_runs_a_job(
    only_containers: LocalStack,
) -> None:
    image_present(ARM64.worker)
    machine = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            ARM64.worker,
            "python3",
            "-c",
            "import platform; print(platform.machine())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert machine.stdout.strip() == "aarch64"
    worker = only_containers.start_worker_container(ARM64.worker, ready_timeout=240)
    banner = worker.recent_output(200)
    assert "skylane.send_email" in banner, banner
    job_id = submit(
        only_containers.api_url,
        "/send-email",
        {"email": "arm@example.com", "subject": "From arm64", "body": "Hello"},
    )
    assert follow(only_containers.api_url, job_id, timeout=120).final["state"] == "SUCCESS"
