"""The ``skylane`` command as a user runs it (a child process) against the running stack:
submit through the API, watch to the end, queue counts straight from SQS."""

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.processes import REPO_ROOT
from tests.integration.conftest import LocalStack
from tests.integration.workers import stop_every_worker

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


def skylane_argv(local_stack: LocalStack, *argv: str) -> list[str]:
    return [sys.executable, "-m", "skylane_cli.main", *argv, "--state", str(local_stack.state_path)]


def skylane(local_stack: LocalStack, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        skylane_argv(local_stack, *argv),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def no_workers(local_stack: LocalStack) -> Iterator[None]:
    """Every worker stopped; afterwards one ordinary worker again, as the session started."""
    stop_every_worker(local_stack)
    yield
    for worker in list(local_stack.workers):
        local_stack.stop_worker(worker)
    local_stack.start_worker()


@pytest.mark.usefixtures("no_workers")
def test_submit_a_local_file_then_watch_its_progress_to_success(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    chunks = 48
    data = b"a line of text\n" * (chunks * MIB // 15 + 1)
    data = data[: chunks * MIB]
    path = tmp_path / "somefile.txt"
    path.write_bytes(data)

    submitted = skylane(local_stack, "submit", "process-file", str(path))
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip()
    uuid.UUID(job_id)
    assert "uploaded" in submitted.stderr

    # Watching starts while the job waits; the worker starts after, writing every progress
    # step, so the job passes through each state while it is watched.
    with subprocess.Popen(
        skylane_argv(local_stack, "watch", job_id, "--interval", "0.05"),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as watch:
        local_stack.start_worker({"PROGRESS_MIN_INTERVAL_SECONDS": "0"})
        out, err = watch.communicate(timeout=180)

    assert watch.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == "PENDING   Job is waiting in the queue"
    progress = [line for line in lines if line.startswith("PROGRESS")]
    assert len(progress) >= 2, out
    # Each printed step is one the job's record held; a poll can miss the last ones before
    # SUCCESS, so the steps only have to move forward within the file's chunks.
    steps = [int(line.split()[1].split("/")[0]) for line in progress]
    assert steps == sorted(set(steps)), out
    assert all(line.split()[1].endswith(f"/{chunks}") for line in progress), out
    assert 0 < steps[-1] <= chunks
    state, _, result = lines[-1].partition(" ")
    assert state == "SUCCESS"
    assert json.loads(result)["size_bytes"] == len(data)


@pytest.mark.every_emulator
def test_submit_an_email_and_wait_for_it(local_stack: LocalStack) -> None:
    argv = [
        "submit",
        "send-email",
        "--to",
        "user@example.com",
        "--subject",
        "Hi",
        "--body",
        "Hello",
    ]
    key = f"cli-{uuid.uuid4()}"
    done = skylane(local_stack, *argv, "--idempotency-key", key, "--wait")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    job_id = lines[0]
    assert lines[-1].startswith("SUCCESS")

    again = skylane(local_stack, *argv, "--idempotency-key", key)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == job_id


def test_watching_an_unknown_job_exits_2(local_stack: LocalStack) -> None:
    unknown = str(uuid.uuid4())
    done = skylane(local_stack, "watch", unknown)
    assert done.returncode == 2
    assert done.stderr.strip() == f"skylane: no job with id {unknown}"


def test_bad_kinds_and_bad_input_are_refused_clearly(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    unknown_kind = skylane(local_stack, "submit", "bake-cake")
    assert unknown_kind.returncode == 2
    assert "invalid choice: 'bake-cake'" in unknown_kind.stderr

    bad_email = skylane(
        local_stack, "submit", "send-email", "--to", "nobody", "--subject", "Hi", "--body", "x"
    )
    assert bad_email.returncode == 1
    assert bad_email.stdout == ""
    assert bad_email.stderr.startswith(
        "skylane: POST /send-email answered 422: email: value is not a valid email address"
    )

    not_uploaded = skylane(
        local_stack,
        "submit",
        "process-document",
        f"s3://{local_stack.uploads_bucket}/uploads/none/x.pdf",
    )
    assert not_uploaded.returncode == 1
    assert "no object 'uploads/none/x.pdf' in the uploads bucket" in not_uploaded.stderr

    missing = skylane(local_stack, "submit", "process-file", str(tmp_path / "absent.txt"))
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"skylane: {tmp_path / 'absent.txt'} is not a file"


def test_queues_shows_every_queue_with_its_dead_letters(local_stack: LocalStack) -> None:
    sqs = local_stack.client("sqs")
    marker = f"cli-dead-letter-{uuid.uuid4()}"
    sqs.send_message(QueueUrl=local_stack.high_dlq_url, MessageBody=marker)
    try:
        answer = skylane(local_stack, "queues", "--json")
        assert answer.returncode == 0, answer.stderr
        counts = json.loads(answer.stdout)
        assert {"high", "default", "schedule"} <= set(counts)
        assert counts["high"]["dead_letters"] >= 1
        for name in ("high", "default"):
            assert set(counts[name]) == {"visible", "in_flight", "delayed", "dead_letters"}
            assert all(isinstance(value, int) for value in counts[name].values())

        table = skylane(local_stack, "queues")
        assert table.returncode == 0, table.stderr
        assert f"queues of {local_stack.stack.stack_name}" in table.stdout
        for name in counts:
            assert name in table.stdout
    finally:
        _delete(sqs, local_stack.high_dlq_url, marker)


def _delete(sqs: Any, queue_url: str, body: str) -> None:
    """Takes the test's own dead letter out again; other tests count what is there."""
    for _ in range(20):
        received = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        for message in received:
            if message["Body"] == body:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                return
