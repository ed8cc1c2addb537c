"""Call the Lambda handler exactly as API Gateway does, with real event payloads."""

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.conftest import load_event


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


Invoke = Callable[..., Answer]


class _LambdaContext:
    function_name = "ApiFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ApiFunction"
    aws_request_id = "test-request"


def http_api_event(method: str, path: str, body: Any, headers: dict[str, str]) -> dict[str, Any]:
    event = load_event("http_api_proxy")
    path_only, _, query = path.partition("?")
    event.update(
        rawPath=path_only,
        rawQueryString=query,
        headers={"content-type": "application/json", **headers},
        cookies=[],
        queryStringParameters=None,
        pathParameters={"proxy": path_only.lstrip("/")},
        isBase64Encoded=False,
        body=None if body is None else body if isinstance(body, str) else json.dumps(body),
    )
    event["requestContext"]["http"].update(method=method, path=path_only)
    return event


def rest_api_event(method: str, path: str, body: Any, headers: dict[str, str]) -> dict[str, Any]:
    event = load_event("rest_api_proxy")
    stage = event["requestContext"]["stage"]
    path, _, query = path.partition("?")
    # The REST API passes the query string parsed, never raw.
    multi = parse_qs(query, keep_blank_values=True)
    event.update(
        path=path,
        httpMethod=method,
        headers={"Content-Type": "application/json", **headers},
        multiValueHeaders={},
        queryStringParameters={k: v[-1] for k, v in multi.items()} or None,
        multiValueQueryStringParameters=multi or None,
        pathParameters={"proxy": path.lstrip("/")},
        isBase64Encoded=False,
        body=None if body is None else body if isinstance(body, str) else json.dumps(body),
    )
    event["requestContext"].update(httpMethod=method, path=f"/{stage}{path}")
    return event


@pytest.fixture(params=["http_api", "rest_api"])
def invoke(request: pytest.FixtureRequest, aws: dict[str, Any]) -> Invoke:
    """invoke(method, path, body=None, headers=None) through the Mangum handler.

    Parametrized: every test using it runs with the HTTP API (2.0) and REST API (1.0) payloads.
    """
    from functions.api.handler import handler

    build = http_api_event if request.param == "http_api" else rest_api_event

    def call(
        method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        response = handler(build(method, path, body, headers or {}), _LambdaContext())
        raw = response.get("body") or ""
        if response.get("isBase64Encoded"):
            raw = base64.b64decode(raw).decode()
        content_type = {k.lower(): v for k, v in (response.get("headers") or {}).items()}.get(
            "content-type", ""
        )
        parsed = json.loads(raw) if raw and "json" in content_type else raw
        return Answer(
            status=response["statusCode"],
            headers={k.lower(): v for k, v in (response.get("headers") or {}).items()},
            body=parsed,
        )

    return call
