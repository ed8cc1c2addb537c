"""`skylane logs` against the local stack: the children's lines shipped into the emulator's
CloudWatch Logs, found again by job id across the API and the worker."""

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.processes import REPO_ROOT
from tests.integration.client import follow, submit
from tests.integration.conftest import LocalStack
from tests.integration.waiting import wait_until

pytestmark = pytest.mark.integration

# `2026-11-29 01:39:14.000  worker   INFO    job started  task=skylane.send_email  attempt=1`
PRINTED = re.compile(r"^(\S+ \S+)  (\S+)\s+(\S+)\s+(.*)$")
REQUEST_ID = re.compile(r"  request_id=\S+")
EMAIL = {"email": "user@example.com", "subject": "Logs", "body": "Hello"}


@dataclass(frozen=True)
class Printed:
    time: str
    component: str
    level: str
    text: str


def parse_printed(output: str) -> list[Printed]:
    """The printed events; a multi-line message's further lines are indented and skipped.

    The request id each line carries is left out of ``text``: it differs per request.
    """
    lines = []
    for raw in output.splitlines():
        if not raw.strip() or raw.startswith(" "):
            continue
        match = PRINTED.match(raw)
        assert match, f"not a log line: {raw!r}"
        time_, component, level, text = match.groups()
        lines.append(Printed(time_, component, level, REQUEST_ID.sub("", text)))
    return lines


def cli_env() -> dict[str, str]:
    # The command must find the stack through its state file alone, not our AWS_* variables.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "PYTHONUNBUFFERED": "1"}


def skylane_logs(local_stack: LocalStack, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "skylane_cli.main", "logs", *args]
    argv += ["--state", str(local_stack.state_path)]
    return subprocess.run(
        argv, cwd=REPO_ROOT, env=cli_env(), capture_output=True, text=True, timeout=120, check=False
    )


def shipped(local_stack: LocalStack, group_output: str, job_id: str) -> list[dict[str, Any]]:
    logs = local_stack.client("logs")
    events: list[dict[str, Any]] = logs.filter_log_events(
        logGroupName=local_stack.outputs[group_output], filterPattern=f'"{job_id}"'
    )["events"]
    return events


def wait_until_shipped(
    local_stack: LocalStack,
    job_id: str,
    text: str,
    timeout: float = 30,
    group_output: str = "WorkerLogGroupName",
) -> None:
    """Lines reach CloudWatch Logs a second or so after they are printed, each child's on
    its own: the worker's may be there before the API's."""
    wait_until(
        lambda: any(text in e["message"] for e in shipped(local_stack, group_output, job_id)),
        timeout,
        f"a line with {text!r} of job {job_id} in {group_output}",
        interval=0.2,
    )


def wait_until_accepted_and_finished_shipped(local_stack: LocalStack, job_id: str) -> None:
    wait_until_shipped(local_stack, job_id, '"job accepted"', group_output="ApiLogGroupName")
    wait_until_shipped(local_stack, job_id, '"job finished"')


def messages(lines: list[Printed]) -> list[tuple[str, str]]:
    return [(line.component, line.text) for line in lines]


@pytest.mark.every_emulator
def test_a_jobs_lines_from_api_and_worker_are_printed_in_time_order(
    local_stack: LocalStack,
) -> None:
    job_id = submit(local_stack.api_url, "/send-email", EMAIL)
    assert follow(local_stack.api_url, job_id).final["state"] == "SUCCESS"
    wait_until_accepted_and_finished_shipped(local_stack, job_id)

    done = skylane_logs(local_stack, job_id)

    assert done.returncode == 0, done.stderr
    lines = parse_printed(done.stdout)
    texts = messages(lines)
    accepted = ("api", "job accepted  task=skylane.send_email")
    started = ("worker", "job started  task=skylane.send_email  attempt=1")
    finished = ("worker", "job finished  task=skylane.send_email  attempt=1")
    assert {accepted, started, finished} <= set(texts), done.stdout
    assert texts.index(started) < texts.index(finished)
    assert [line.time for line in lines] == sorted(line.time for line in lines)


def test_the_shipped_lines_are_in_the_emulators_log_groups_with_aws_stream_names(
    local_stack: LocalStack,
) -> None:
    job_id = submit(local_stack.api_url, "/send-email", EMAIL)
    assert follow(local_stack.api_url, job_id).final["state"] == "SUCCESS"
    wait_until_accepted_and_finished_shipped(local_stack, job_id)

    api_events = shipped(local_stack, "ApiLogGroupName", job_id)
    worker_events = shipped(local_stack, "WorkerLogGroupName", job_id)
    assert any('"job accepted"' in e["message"] for e in api_events)
    assert any('"job started"' in e["message"] for e in worker_events)
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", api_events[0]["logStreamName"])
    assert re.fullmatch(r"worker/worker/[0-9a-f]{32}", worker_events[0]["logStreamName"])
    # The scheduler's lines go to the scheduler function's group.
    scheduler_group = local_stack.outputs["SchedulerLogGroupName"]
    ready = local_stack.client("logs").filter_log_events(
        logGroupName=scheduler_group, filterPattern='"scheduler ready"'
    )["events"]
    assert ready, f"no 'scheduler ready' line in {scheduler_group}"


def test_a_retried_job_shows_the_retry_and_both_attempts_and_filters_work(
    local_stack: LocalStack,
) -> None:
    ses = local_stack.client("ses")
    sender = local_stack.stack.worker_env["EMAIL_SENDER"]
    # An unverified sender is a failure a retry can get past (as in test_reliability).
    ses.delete_identity(Identity=sender)
    try:
        job_id = submit(local_stack.api_url, "/send-email", EMAIL)
        wait_until(
            lambda: httpx.get(f"{local_stack.api_url}/task/{job_id}").json()["state"] == "RETRY",
            30,
            "the job to go to RETRY",
        )
    finally:
        ses.verify_email_identity(EmailAddress=sender)
    assert follow(local_stack.api_url, job_id).final["state"] == "SUCCESS"
    wait_until_shipped(local_stack, job_id, '"job finished"')

    every = skylane_logs(local_stack, job_id)
    assert every.returncode == 0, every.stderr
    texts = messages(parse_printed(every.stdout))
    first = ("worker", "job started  task=skylane.send_email  attempt=1")
    retry = ("worker", "transient failure, retrying  task=skylane.send_email  attempt=1")
    second = ("worker", "job started  task=skylane.send_email  attempt=2")
    finished = ("worker", "job finished  task=skylane.send_email  attempt=2")
    assert texts.index(first) < texts.index(retry) < texts.index(second) < texts.index(finished)

    warnings = skylane_logs(local_stack, job_id, "--level", "WARNING")
    assert warnings.returncode == 0, warnings.stderr
    printed = parse_printed(warnings.stdout)
    assert retry in messages(printed)
    assert {line.level for line in printed} <= {"WARNING", "ERROR", "CRITICAL"}

    worker_only = skylane_logs(local_stack, job_id, "--component", "worker")
    assert {line.component for line in parse_printed(worker_only.stdout)} == {"worker"}
    api_only = parse_printed(skylane_logs(local_stack, job_id, "--component", "api").stdout)
    # The rest of the API's lines are uvicorn's access lines of our /task/<id> polls.
    assert [line.text for line in api_only if line.level != "-"] == [
        "job accepted  task=skylane.send_email"
    ]
    assert {line.component for line in api_only} == {"api"}


def test_an_unknown_job_has_no_lines_and_says_so(local_stack: LocalStack) -> None:
    done = skylane_logs(local_stack, "00000000-0000-4000-8000-000000000000")
    assert done.returncode == 1
    assert "no log lines of job 00000000-0000-4000-8000-000000000000" in done.stderr


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_follow_prints_new_lines_of_the_chosen_component_as_they_come(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    argv = [sys.executable, "-m", "skylane_cli.main", "logs", "--follow", "--component", "worker"]
    argv += ["--state", str(local_stack.state_path)]
    printed: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    errors = tmp_path / "stderr.txt"
    with (
        errors.open("w") as stderr,
        subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            # Started as a script's background job is: with SIGINT ignored. SIGINT must still
            # end the follow.
            preexec_fn=ignore_sigint,
        ) as process,
    ):

        def read() -> None:
            assert process.stdout is not None
            for raw in process.stdout:
                printed.put(raw.rstrip("\n"))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            job_id = submit(local_stack.api_url, "/send-email", EMAIL)
            deadline = time.monotonic() + 60
            while not any("job finished" in line and job_id in line for line in seen):
                assert process.poll() is None, errors.read_text()
                assert time.monotonic() < deadline, f"no 'job finished' of {job_id}; saw {seen}"
                with contextlib.suppress(queue.Empty):
                    seen.append(printed.get(timeout=0.5))
        finally:
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=30)
            reader.join(timeout=10)
    assert code == 0, errors.read_text()
    assert {line.component for line in parse_printed("\n".join(seen))} == {"worker"}
    ours = [line for line in seen if job_id in line]
    assert any("job started" in line for line in ours)
    assert len(ours) == len(set(ours)), "a line was printed twice"
