"""An AWS outage seen by the worker: it keeps running, and resumes when AWS is back."""

import time
from urllib.parse import urlparse

import pytest

from tests.integration.client import follow, submit
from tests.integration.conftest import LocalStack
from tests.integration.cuttable_proxy import CuttableProxy
from tests.integration.workers import stop_every_worker

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 10


def test_a_worker_rides_out_an_outage_and_loses_no_job(local_stack: LocalStack) -> None:
    stop_every_worker(local_stack)
    emulator_port = urlparse(local_stack.endpoint.url).port
    assert emulator_port is not None
    proxy = CuttableProxy(emulator_port)
    try:
        worker = local_stack.start_worker({"AWS_ENDPOINT_URL": proxy.url})
        proxy.cut()
        jobs = [
            submit(
                local_stack.api_url,
                "/send-email",
                {"email": f"outage{n}@example.com", "subject": "During", "body": "x"},
            )
            for n in range(5)
        ]
        time.sleep(OUTAGE_SECONDS)
        assert worker.running, worker.recent_output()
        assert "SQS receive failed" in worker.recent_output()
        proxy.restore()
        for job in jobs:
            assert follow(local_stack.api_url, job, timeout=60).final["state"] == "SUCCESS"
        assert worker.running
    finally:
        for worker in list(local_stack.workers):
            local_stack.stop_worker(worker)
        proxy.close()
        local_stack.start_worker()
