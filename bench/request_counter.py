"""Every AWS request the bench's emulator answers, counted by component, service and operation.

It runs inside the emulator's process (bench/emulator.py), in front of moto's server, so no
proxy stands between a system and the emulator. Each component (an API, a worker) signs with an
access key of its own (``component_key``), so its requests are counted apart from every other
process's; requests signed with any other key (the bench's own) pass uncounted. The service is
read from the SigV4 credential scope, the operation from X-Amz-Target (JSON protocols), Action
(query protocols) or the method and path (S3). ReceiveMessage answers are told apart by whether
they carried messages: an empty long poll is idle cost, not a job's. With metering on for a
component, its DynamoDB requests are priced in units as well (bench.dynamodb_meter). The bench
reads and resets all of it at CONTROL_PATH.
"""

import io
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wsgi import get_input_stream

from bench.dynamodb_meter import DynamoDBMeter

# The access key id and the service of a SigV4 credential scope.
CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/[^/]+/([^/]+)/aws4_request")
COMPONENT_KEY_PREFIX = "BENCH"
CONTROL_PATH = "/_bench/"
EMPTY_RECEIVE = "ReceiveMessage (empty)"
RECEIVE = "ReceiveMessage"


def signer_of(headers: Any, query: dict[str, list[str]]) -> tuple[str, str]:
    """The access key id and the service a request was signed for (header or presigned URL)."""
    scope = CREDENTIAL.search(headers.get("Authorization", ""))
    if scope:
        return scope.group(1), scope.group(2)
    parts = query.get("X-Amz-Credential", [""])[0].split("/")
    return parts[0], parts[3] if len(parts) > 3 else "unknown"


def s3_operation(method: str, path: str, query: dict[str, list[str]]) -> str:
    has_key = len([part for part in path.split("/") if part]) > 1
    if "uploads" in query:
        return "CreateMultipartUpload"
    if "uploadId" in query:
        return {"PUT": "UploadPart", "POST": "CompleteMultipartUpload"}.get(
            method, "AbortMultipartUpload"
        )
    if has_key:
        return {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject"}.get(
            method, "DeleteObject"
        )
    return {"GET": "ListObjectsV2", "HEAD": "HeadBucket", "POST": "DeleteObjects"}.get(
        method, f"{method} bucket"
    )


def operation_of(
    service: str, method: str, path: str, headers: Any, query: dict[str, list[str]], body: bytes
) -> str:
    target = headers.get("X-Amz-Target")
    if target:
        return str(target).rsplit(".", 1)[-1]
    if "Action" in query:
        return query["Action"][0]
    if "x-www-form-urlencoded" in headers.get("Content-Type", ""):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return action[0]
    if service == "s3":
        return s3_operation(method, path, query)
    return f"{method} {path}"


def carried_messages(body: bytes) -> bool:
    return b'"Messages"' in body or b"<Message>" in body


def component_key(component: str) -> str:
    """The access key id a component signs with, which names it here."""
    return COMPONENT_KEY_PREFIX + component


def component_of(access_key: str) -> str | None:
    """The component that signed with ``access_key``, if it is a component's key."""
    if not access_key.startswith(COMPONENT_KEY_PREFIX):
        return None
    return access_key[len(COMPONENT_KEY_PREFIX) :]


class ComponentCounts:
    """One component's requests, the emulator's seconds answering them, and its units."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str], int] = {}
        self.seconds: dict[tuple[str, str], float] = {}
        self.meter: DynamoDBMeter | None = None

    def count(self, service: str, operation: str, seconds: float) -> None:
        key = (service, operation)
        self.requests[key] = self.requests.get(key, 0) + 1
        self.seconds[key] = self.seconds.get(key, 0.0) + seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": [[s, op, n] for (s, op), n in sorted(self.requests.items())],
            "seconds": [[s, op, t] for (s, op), t in sorted(self.seconds.items())],
            "units": self.meter.snapshot() if self.meter is not None else {},
        }


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class RequestCounter:
    """WSGI middleware in front of the emulator's application."""

    def __init__(self, app: WsgiApp, dynamodb: Callable[[], Any]) -> None:
        self._app = app
        # A client of the emulator signed with the bench's own key: what the meters read is
        # never counted.
        self._dynamodb = dynamodb
        self._components: dict[str, ComponentCounts] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PATH):
            return self._control(path[len(CONTROL_PATH) :], environ, start_response)
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        headers = {
            "Authorization": environ.get("HTTP_AUTHORIZATION", ""),
            "X-Amz-Target": environ.get("HTTP_X_AMZ_TARGET", ""),
            "Content-Type": environ.get("CONTENT_TYPE", ""),
        }
        access_key, service = signer_of(headers, query)
        component = component_of(access_key)
        if component is None:
            return self._app(environ, start_response)
        # Read once, then handed to moto whole (chunked or not).
        body = get_input_stream(environ).read()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False
        operation = operation_of(
            service, environ.get("REQUEST_METHOD", "GET"), path, headers, query, body
        )
        answered: list[Any] = []

        def forward() -> tuple[int, bytes]:
            def capture(status: str, response_headers: Any, exc_info: Any = None) -> Any:
                answered[:] = [status, response_headers]
                return lambda data: None

            result = self._app(environ, capture)
            try:
                payload = b"".join(result)
            finally:
                getattr(result, "close", lambda: None)()
            return int(answered[0].split()[0]), payload

        began = time.monotonic()
        counts = self._counts(component)
        meter = counts.meter
        if meter is not None and service == "dynamodb":
            _, payload = meter.around(operation, body, forward)
        else:
            _, payload = forward()
        if operation == RECEIVE and not carried_messages(payload):
            operation = EMPTY_RECEIVE
        with self._lock:
            counts.count(service, operation, time.monotonic() - began)
        start_response(*answered)
        return [payload]

    def _counts(self, component: str) -> ComponentCounts:
        with self._lock:
            return self._components.setdefault(component, ComponentCounts())

    def _control(self, action: str, environ: dict[str, Any], start_response: Any) -> Any:
        """GET counts; POST reset?component=NAME; POST meter?component=NAME&on=1|0."""
        query = parse_qs(environ.get("QUERY_STRING", ""))
        name = query.get("component", [""])[0]
        if action == "counts":
            with self._lock:
                answer = {n: c.as_dict() for n, c in self._components.items()}
        elif action == "reset":
            with self._lock:
                counts = self._components.setdefault(name, ComponentCounts())
                counts.requests.clear()
                counts.seconds.clear()
                if counts.meter is not None:
                    counts.meter.reset()
            answer = {}
        elif action == "meter":
            on = query.get("on", ["0"])[0] == "1"
            self._counts(name).meter = DynamoDBMeter(self._dynamodb()) if on else None
            answer = {}
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such bench action"]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(answer).encode()]
