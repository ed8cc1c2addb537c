"""Idempotency-Key through the API process and the emulator: one job per key and body."""

import uuid

import httpx
import pytest

from tests.integration.client import follow
from tests.integration.conftest import LocalStack

pytestmark = pytest.mark.integration


def test_a_repeated_submission_is_one_job_and_a_changed_one_is_refused(
    local_stack: LocalStack,
) -> None:
    key = f"checkout-{uuid.uuid4()}"
    body = {"email": "buyer@example.com", "subject": "Your order", "body": "Thanks"}
    with httpx.Client(base_url=local_stack.api_url, timeout=30) as http:
        answers = [
            http.post("/send-email", json=body, headers={"Idempotency-Key": key}) for _ in range(3)
        ]
        assert {a.status_code for a in answers} == {202}
        job_ids = {a.json()["task_id"] for a in answers}
        assert len(job_ids) == 1

        changed = http.post(
            "/send-email", json={**body, "subject": "Other"}, headers={"Idempotency-Key": key}
        )
        assert changed.status_code == 422
        assert "different request" in changed.json()["detail"][0]["msg"]

    [job_id] = job_ids
    assert follow(local_stack.api_url, job_id).final["state"] == "SUCCESS"
    scan = local_stack.client("dynamodb").scan(TableName=local_stack.table)
    matching = [i for i in scan["Items"] if "Your order" in i.get("inputs", {}).get("S", "")]
    assert [i["job_id"]["S"] for i in matching] == [job_id]
