"""Both systems on one emulator: skylane (the template's stack, its API and worker) and the
naive port (bench.naive's producer and worker), each component's requests counted by the
emulator (bench.emulator), to which it signs with an access key of its own.
"""

import json
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import emulator as bench_emulator
from bench.emulator import Counter
from infra import local_setup
from infra.emulator import AwsEndpoint, Emulator, free_port
from infra.processes import (
    ChildProcess,
    LogDirectory,
    child_environment,
    start_api,
    start_worker,
    stop_all,
)
from infra.template import DeployedStack

STACK_NAME = "skylane-bench"
# Template defaults except the retry countdown (1 s instead of 60 s, so the retry case is quick;
# the naive port gets the same countdown).
PARAMETERS = {"Stage": "local", "RetryCountdownSeconds": "1"}
RETRY_COUNTDOWN_SECONDS = 1
NAIVE_TABLE = "naive-celery-results"
WORKER_READY = r"\bready\."
FINAL = {"SUCCESS", "FAILURE", "REVOKED"}
POLL_SECONDS = 0.5
POLL_SECONDS_PER_JOB = 0.005


@dataclass
class System:
    """One system's API and worker, each counted apart."""

    name: str
    api_counter: Counter
    worker_counter: Counter
    api: ChildProcess | None = None
    worker: ChildProcess | None = None
    api_port: int = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def reset(self) -> None:
        self.api_counter.reset()
        self.worker_counter.reset()

    def submit(self, path: str, body: dict[str, Any], http: httpx.Client | None = None) -> str:
        client = http or httpx.Client(timeout=30)
        answer = client.post(f"{self.api_url}{path}", json=body)
        answer.raise_for_status()
        job_id: str = answer.json()["task_id"]
        return job_id

    def processes(self) -> list[ChildProcess]:
        return [p for p in (self.api, self.worker) if p is not None]


@dataclass
class Bench:
    emulator: Emulator
    stack: DeployedStack
    logs: LogDirectory
    skylane: System
    naive: System

    @property
    def endpoint(self) -> AwsEndpoint:
        return self.emulator.endpoint

    @property
    def uploads_bucket(self) -> str:
        return self.stack.outputs["UploadsBucketName"]

    @property
    def jobs_table(self) -> str:
        return self.stack.outputs["JobsTableName"]

    def client(self, service: str) -> Any:
        """A client straight to the emulator: the bench's own requests are never counted."""
        return self.endpoint.client(service)

    def skylane_env(self, component: Mapping[str, str], counter: Counter) -> dict[str, str]:
        return child_environment(
            self.endpoint.env(), component, {"AWS_ACCESS_KEY_ID": counter.access_key}
        )

    def naive_env(self, counter: Counter) -> dict[str, str]:
        port = self.endpoint.url.rsplit(":", 1)[1]
        return child_environment(
            self.endpoint.env(),
            {
                "AWS_ACCESS_KEY_ID": counter.access_key,
                "CELERY_BROKER_URL": "sqs://",
                "CELERY_RESULT_BACKEND": f"dynamodb://@127.0.0.1:{port}/{NAIVE_TABLE}",
                "NAIVE_BUCKET": self.uploads_bucket,
                "NAIVE_EMAIL_SENDER": self.stack.worker_env["EMAIL_SENDER"],
                "NAIVE_RETRY_COUNTDOWN": str(RETRY_COUNTDOWN_SECONDS),
            },
        )

    def start_skylane(self, worker_overrides: Mapping[str, str] | None = None) -> None:
        """worker_overrides: environment over the template's, to compare worker settings."""
        system = self.skylane
        system.worker = start_worker(
            self.skylane_env(
                {**self.stack.worker_env, **(worker_overrides or {})}, system.worker_counter
            ),
            self.logs,
            "skylane-worker",
        )
        system.api_port = free_port()
        system.api = start_api(
            self.skylane_env(self.stack.api_env, system.api_counter),
            self.logs,
            port=system.api_port,
            name="skylane-api",
        )
        system.worker.wait_for_output(WORKER_READY, timeout=90)

    def start_naive(self) -> None:
        system = self.naive
        system.worker = start_worker(
            self.naive_env(system.worker_counter),
            self.logs,
            name="naive-worker",
            argv=[
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bench.naive.tasks",
                "worker",
                "--loglevel=info",
                "--concurrency=2",
            ],
        )
        system.api_port = free_port()
        argv = [sys.executable, "-m", "uvicorn", "bench.naive.main:app", "--host", "127.0.0.1"]
        system.api = start_api(
            self.naive_env(system.api_counter),
            self.logs,
            port=system.api_port,
            name="naive-api",
            argv=[*argv, "--port", str(system.api_port)],
        )
        system.worker.wait_for_output(WORKER_READY, timeout=90)

    def stop_system(self, system: System) -> None:
        stop_all(system.processes(), grace=10.0)
        system.api = system.worker = None

    def stop(self) -> None:
        stop_all([*self.skylane.processes(), *self.naive.processes()], grace=10.0)
        self.emulator.stop()
        self.logs.close()

    # ------------------------------------------------------------------ job state, read directly
    def upload(self, size: int) -> str:
        key = f"uploads/{uuid.uuid4()}/bench.bin"
        line = b"skylane bench line of text 0123456789\n"
        data = (line * (size // len(line) + 1))[:size]
        self.client("s3").put_object(Bucket=self.uploads_bucket, Key=key, Body=data)
        return key

    def skylane_states(self, job_ids: list[str]) -> dict[str, tuple[str, str | None]]:
        """Each job's state and ended_at, from the job table."""
        found: dict[str, tuple[str, str | None]] = {}
        dynamodb = self.client("dynamodb")
        for start in range(0, len(job_ids), 100):
            keys = [{"job_id": {"S": j}} for j in job_ids[start : start + 100]]
            # Only what is asked: whole records made the emulator serialise every attribute of
            # every job on each poll, CPU taken from the systems being measured.
            request = {
                "Keys": keys,
                "ConsistentRead": True,
                "ProjectionExpression": "job_id, #state, ended_at",
                "ExpressionAttributeNames": {"#state": "state"},
            }
            answer = dynamodb.batch_get_item(RequestItems={self.jobs_table: request})
            for item in answer["Responses"][self.jobs_table]:
                ended = item.get("ended_at", {}).get("S")
                found[item["job_id"]["S"]] = (item["state"]["S"], ended)
        return found

    def naive_states(self, job_ids: list[str]) -> dict[str, tuple[str, str | None]]:
        """Each job's status and date_done, from Celery's DynamoDB result table."""
        found: dict[str, tuple[str, str | None]] = {}
        dynamodb = self.client("dynamodb")
        for start in range(0, len(job_ids), 50):
            # Celery keys its items with str() of a bytes key ("b'celery-task-meta-…'"); both
            # spellings are asked for, whichever this Celery version writes.
            keys = [
                {"id": {"S": spelling}}
                for j in job_ids[start : start + 50]
                for spelling in (f"celery-task-meta-{j}", str(f"celery-task-meta-{j}".encode()))
            ]
            try:
                answer = dynamodb.batch_get_item(
                    RequestItems={NAIVE_TABLE: {"Keys": keys, "ConsistentRead": True}}
                )
            except dynamodb.exceptions.ResourceNotFoundException:
                return found  # the naive worker creates its table when it stores a first result
            for item in answer["Responses"][NAIVE_TABLE]:
                meta = json.loads(
                    item["result"]["B"] if "B" in item["result"] else item["result"]["S"]
                )
                found[meta["task_id"]] = (meta["status"], meta.get("date_done"))
        return found

    def states(self, system: System, job_ids: list[str]) -> dict[str, tuple[str, str | None]]:
        return (
            self.skylane_states(job_ids) if system is self.skylane else self.naive_states(job_ids)
        )

    def wait_final(self, system: System, job_ids: list[str], timeout: float = 120) -> None:
        """Until every job is final. Only jobs not yet final are read again, and less often the
        more there are: the emulator serves these reads with the CPU the systems measured need
        (every job of a 500-job run twice a second was about 1,000 item reads a second)."""
        deadline = time.monotonic() + timeout
        pending = list(job_ids)
        while time.monotonic() < deadline:
            states = self.states(system, pending)
            pending = [job for job in pending if states.get(job, ("",))[0] not in FINAL]
            if not pending:
                return
            # Latency and rate come from the completion times the workers stored: when the poll
            # sees them does not change those figures.
            time.sleep(max(POLL_SECONDS, len(pending) * POLL_SECONDS_PER_JOB))
        raise TimeoutError(f"{system.name}: {len(pending)} jobs not final after {timeout} s")


def start_bench(logs_dir: Path) -> Bench:
    logs = LogDirectory(logs_dir)
    emulator = bench_emulator.start(logs.path("emulator"))
    try:
        stack = local_setup.deploy_local(emulator.endpoint, PARAMETERS, STACK_NAME)
    except BaseException:
        emulator.stop()
        raise

    def counter(component: str) -> Counter:
        return Counter(emulator.endpoint, component)

    return Bench(
        emulator=emulator,
        stack=stack,
        logs=logs,
        skylane=System("skylane", counter("skylane-api"), counter("skylane-worker")),
        naive=System("naive", counter("naive-api"), counter("naive-worker")),
    )
