"""A call AWS refuses for want of a permission is a fault of the deployment, not an outage."""

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from skylane.jobs import store as jobs
from tests.unit.functions.api.conftest import Invoke
from tests.unit.log_capture import capture

DENIED = (
    "User: arn:aws:sts::123456789012:assumed-role/skylane-ApiFunctionRole-X/api is not "
    "authorized to perform: dynamodb:PutItem"
)


def test_a_denied_write_answers_500_without_retry_after_and_logs_the_action(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    denied: Any = boto3.client("dynamodb", region_name="us-east-1")
    stubber = Stubber(denied)
    stubber.add_client_error(
        "put_item",
        service_error_code="AccessDeniedException",
        service_message=DENIED,
        http_status_code=400,
    )
    stubber.activate()
    monkeypatch.setattr(jobs, "client", lambda service: denied)

    with capture(monkeypatch) as captured:
        answer = invoke(
            "POST", "/send-email", {"email": "a@example.com", "subject": "s", "body": "b"}
        )

    assert answer.status == 500, answer.body
    # Retrying cannot help: no Retry-After, and the client is told nothing was accepted.
    assert "retry-after" not in {name.lower() for name in answer.headers}
    assert "permission is missing" in answer.body["detail"]
    assert "No job was accepted" in answer.body["detail"]
    # The operators' log names the denied action and the role; the client never sees them.
    [logged] = [line for line in captured.lines() if line["message"] == "AWS permission missing"]
    assert logged["operation"] == "PutItem"
    assert "dynamodb:PutItem" in logged["reason"]
    assert "ApiFunctionRole" in logged["reason"]
    assert "ApiFunctionRole" not in answer.body["detail"]
