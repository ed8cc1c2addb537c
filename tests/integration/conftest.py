"""Integration fixtures: the real stack (the emulator, the template's stack, the API under
uvicorn, Celery workers, the schedule runner) started once per session, on free ports, with
fast retries.

Tests mark themselves ``pytestmark = pytest.mark.integration`` and take ``local_stack``.
Each child's output is in ``local_stack.logs_dir/<name>.log``.

The emulator is moto's server, or MiniStack with SKYLANE_EMULATOR=ministack: there only the
tests marked ``every_emulator`` run (the shared subset; `make test` runs it on both), and a
test of what only some emulators do asks for it with ``requires_emulator``.
"""

import itertools
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra import local_iam, local_setup
from infra.emulator import KIND_VARIABLE, AwsEndpoint, Emulator, free_port, start_emulator
from infra.emulators import MOTO, EmulatorKind, kind_named
from infra.log_shipping import CloudWatchShipping, ship_to_cloudwatch
from infra.processes import (
    LIGHT_FUNCTION,
    LIGHT_READY,
    SCHEDULER_FUNCTION,
    SCHEDULER_READY,
    ChildProcess,
    LogDirectory,
    child_environment,
    start_api,
    start_light,
    start_scheduler,
    start_worker,
    stop_all,
)
from infra.runtime_schedule_runner import service_env
from infra.stack_state import from_deployed
from infra.template import DeployedStack
from infra.worker_container import WorkerContainer

STACK_NAME = "skylane-it"
# Retries after 1 s instead of 60 s, so retry and dead-letter paths fit in a test; 2 s long
# polls, so a stopped worker's last receive is over soon (see stop_every_worker in tests).
# A 4 s visibility timeout: every job longer than that relies on the worker's visibility
# heartbeat, and a crashed worker's messages come back within seconds. Three receives before
# the dead-letter queue, so poison messages land there quickly.
VISIBILITY_TIMEOUT_SECONDS = 4
MAX_RECEIVE_COUNT = 3
PARAMETERS = {
    "Stage": "local",
    "RetryCountdownSeconds": "1",
    "QueueLongPollSeconds": "2",
    "QueueVisibilityTimeoutSeconds": str(VISIBILITY_TIMEOUT_SECONDS),
    "MaxReceiveCount": str(MAX_RECEIVE_COUNT),
    "LightQueueVisibilityTimeoutSeconds": str(VISIBILITY_TIMEOUT_SECONDS),
}
LONG_POLL_SECONDS = 2
WORKER_READY = r"\bready\."
STOP_GRACE_SECONDS = 15.0


@dataclass
class LocalStack:
    emulator: Emulator
    # The admin (``endpoint``, ``env``, ``client``) and each component's own identity.
    identities: local_iam.Identities
    stack: DeployedStack
    logs: LogDirectory
    api: ChildProcess
    api_port: int
    # Fires the template's schedules from ``started_at`` on, as EventBridge Scheduler would.
    scheduler: ChildProcess
    started_at: datetime
    # The stack's .local/stack.json, for `skylane schedules fire --state`.
    state_path: Path
    # LightFunction's handler, fed from the light queue as Lambda's SQS event source would.
    light: ChildProcess
    workers: list[ChildProcess] = field(default_factory=list)
    _worker_numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    # The children's lines go to ``logs`` and to the emulator's CloudWatch Logs through it.
    shipping: CloudWatchShipping | None = None

    @property
    def endpoint(self) -> AwsEndpoint:
        return self.emulator.endpoint

    @property
    def env(self) -> dict[str, str]:
        """AWS_ENDPOINT_URL, the admin's credentials and the region of the emulator."""
        return self.endpoint.env()

    def component_env(self, component: str) -> dict[str, str]:
        """The endpoint and credentials of "api", "worker" or a function by logical id."""
        return self.identities.env(component)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def logs_dir(self) -> Path:
        return self.logs.directory

    @property
    def outputs(self) -> dict[str, str]:
        return self.stack.outputs

    @property
    def table(self) -> str:
        return self.outputs["JobsTableName"]

    @property
    def uploads_bucket(self) -> str:
        return self.outputs["UploadsBucketName"]

    @property
    def reports_bucket(self) -> str:
        return self.outputs["ReportsBucketName"]

    @property
    def high_queue_url(self) -> str:
        return self.outputs["HighQueueUrl"]

    @property
    def default_queue_url(self) -> str:
        return self.outputs["DefaultQueueUrl"]

    @property
    def high_dlq_url(self) -> str:
        return self.outputs["HighDeadLetterQueueUrl"]

    @property
    def default_dlq_url(self) -> str:
        return self.outputs["DefaultDeadLetterQueueUrl"]

    @property
    def light_queue_url(self) -> str:
        return self.outputs["LightQueueUrl"]

    @property
    def light_dlq_url(self) -> str:
        return self.outputs["LightDeadLetterQueueUrl"]

    def client(self, service: str) -> Any:
        """A boto3 client bound to the emulator, whatever this process's AWS_* say."""
        return self.endpoint.client(service)

    def worker_env(self, extra_env: Mapping[str, str] | None = None) -> dict[str, str]:
        return child_environment(
            self.component_env(local_iam.WORKER), self.stack.worker_env, extra_env
        )

    def start_worker(
        self, extra_env: Mapping[str, str] | None = None, ready_timeout: float | None = 30.0
    ) -> ChildProcess:
        """Start one more worker (``worker-N``); by default wait until Celery says it is ready.

        ``handle.terminate()`` is ECS's SIGTERM, ``handle.kill()`` a dead container (SIGKILL to
        its whole process group), ``self.stop_worker(handle)`` both in turn.
        """
        name = f"worker-{next(self._worker_numbers)}"
        worker = start_worker(self.worker_env(extra_env), self.shipping or self.logs, name=name)
        self.workers.append(worker)
        if ready_timeout is not None:
            worker.wait_for_output(WORKER_READY, timeout=ready_timeout)
        return worker

    def start_worker_container(self, image: str, ready_timeout: float = 60.0) -> WorkerContainer:
        """Start a worker as the container ECS runs (``image``), with the task's environment."""
        name = f"worker-{next(self._worker_numbers)}-container"
        task_env = {**self.component_env(local_iam.WORKER), **self.stack.worker_env}
        worker = WorkerContainer(
            name,
            image,
            self.stack.worker_container,
            task_env,
            child_environment(),
            self.shipping or self.logs,
        )
        self.workers.append(worker)
        worker.wait_for_output(WORKER_READY, timeout=ready_timeout)
        return worker

    def stop_worker(self, worker: ChildProcess, grace: float = STOP_GRACE_SECONDS) -> int:
        code = worker.stop(grace)
        self.workers.remove(worker)
        return code

    def stop(self) -> None:
        stop_all([*self.workers, self.api, self.scheduler, self.light], STOP_GRACE_SECONDS)
        self.workers.clear()
        if self.shipping is not None:
            self.shipping.close()
        self.emulator.stop()
        self.logs.close()


def emulator_under_test(environ: Mapping[str, str] = os.environ) -> EmulatorKind:
    """The emulator this session's stack runs on: $SKYLANE_EMULATOR, moto's server by default."""
    return kind_named(environ.get(KIND_VARIABLE) or MOTO)


# `make test` runs the integration suite on two pytest-xdist workers, each with its own stack:
# a file's tests stay together on one (its fixtures and order), the files that use `make
# build`'s packages share one (one build directory), and the longest go first, so that both
# workers finish at about the same time. Seconds measured on a 2-core machine.
SAM_BUILD_FILES = frozenset(
    {
        "test_sam_local_api.py",
        "test_sam_local_invoke.py",
        "test_lambda_package_contents.py",
        "test_lambda_package_platform.py",
    }
)
LONGEST_FIRST = {"sam build": 540, "test_load.py": 245, "test_worker_image.py": 200}


def xdist_group(item: pytest.Item) -> str:
    name = item.path.name
    return "sam build" if name in SAM_BUILD_FILES else name


def group_for_workers(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(pytest.mark.xdist_group(xdist_group(item)))
    items.sort(key=lambda item: -LONGEST_FIRST.get(xdist_group(item), 0))


# First: xdist's own hook reads the groups this one adds.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    group_for_workers(items)
    kind = emulator_under_test()
    if kind.name == MOTO:
        return
    skip = pytest.mark.skip(reason=f"moto only: not in the shared subset run on {kind.name}")
    for item in items:
        if "integration" in item.keywords and "every_emulator" not in item.keywords:
            item.add_marker(skip)


def requires_emulator(local_stack: "LocalStack", capability: str) -> None:
    """Skip unless the session's emulator does what the test checks (EmulatorKind's flags)."""
    kind = local_stack.endpoint.kind
    if not getattr(kind, capability):
        pytest.skip(f"{kind.name} does not do what this test checks ({capability})")


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    logs = LogDirectory(tmp_path_factory.mktemp("local-stack-logs"))
    kind = emulator_under_test()
    emulator = start_emulator(
        port=0, environ={KIND_VARIABLE: kind.name}, log_path=logs.directory / "emulator.log"
    )
    started: list[ChildProcess] = []
    try:
        # Setup and the tests' own calls as an admin; each component as its own template role
        # where the emulator enforces IAM (moto's server only).
        if local_iam.available(emulator):
            emulator.endpoint = local_iam.create_admin(emulator.endpoint)
        stack = local_setup.deploy_local(emulator.endpoint, PARAMETERS, STACK_NAME)
        identities = local_iam.least_privilege(
            emulator, emulator.endpoint, stack, enforce=local_iam.enforcement_wanted()
        )
        # Every child's lines in its log file and in the emulator's CloudWatch Logs.
        shipping = ship_to_cloudwatch(logs, emulator.endpoint, stack.outputs)
        started_at = datetime.now(UTC)
        scheduler_env = child_environment(
            identities.env(SCHEDULER_FUNCTION),
            stack.component_env(SCHEDULER_FUNCTION),
            service_env(identities.admin),
        )
        scheduler = start_scheduler(scheduler_env, shipping, stack.stack_name, started_at)
        started.append(scheduler)
        # The first worker and the scheduler boot while the API does: each takes seconds to import.
        worker_env = child_environment(identities.env(local_iam.WORKER), stack.worker_env)
        worker = start_worker(worker_env, shipping, name="worker-1")
        started.append(worker)
        light_env = child_environment(
            identities.env(LIGHT_FUNCTION), stack.component_env(LIGHT_FUNCTION)
        )
        light = start_light(light_env, shipping, stack.stack_name)
        started.append(light)
        api_port = free_port()
        api_env = child_environment(identities.env("api"), stack.api_env)
        api = start_api(api_env, shipping, port=api_port)
        started.append(api)
        worker.wait_for_output(WORKER_READY, timeout=60)
        scheduler.wait_for_output(SCHEDULER_READY, timeout=60)
        light.wait_for_output(LIGHT_READY, timeout=60)
        state = from_deployed(
            stack,
            emulator.endpoint,
            started_at,
            f"http://127.0.0.1:{api_port}",
            identities.credentials_env(),
        )
        state_path = state.write(tmp_path_factory.mktemp("local-stack-state") / "stack.json")
    except BaseException:
        stop_all(started, grace=1.0)
        emulator.stop()
        logs.close()
        raise
    local = LocalStack(
        emulator=emulator,
        identities=identities,
        stack=stack,
        logs=logs,
        api=api,
        api_port=api_port,
        scheduler=scheduler,
        started_at=started_at,
        state_path=state_path,
        light=light,
        workers=[worker],
        _worker_numbers=itertools.count(2),
        shipping=shipping,
    )
    try:
        yield local
    finally:
        local.stop()
