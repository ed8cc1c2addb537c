"""A counting HTTP proxy in front of the emulator: every AWS request, by service and operation.

Each component (the API, the worker) gets a proxy of its own through AWS_ENDPOINT_URL, so its
requests are counted apart from every other process's. The service is read from the SigV4
credential scope, the operation from X-Amz-Target (JSON protocols), Action (query protocols) or
the method and path (S3). ReceiveMessage answers are told apart by whether they carried
messages: an empty long poll is idle cost, not a job's.
"""

import http.client
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench.dynamodb_meter import DynamoDBMeter

CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
EMPTY_RECEIVE = "ReceiveMessage (empty)"
RECEIVE = "ReceiveMessage"


def service_of(headers: Any, query: dict[str, list[str]]) -> str:
    scope = CREDENTIAL_SCOPE.search(headers.get("Authorization", ""))
    if scope:
        return scope.group(1)
    credential = query.get("X-Amz-Credential", [""])[0]
    parts = credential.split("/")
    return parts[3] if len(parts) > 3 else "unknown"


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


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (a worker stopping mid long poll) is no error worth printing.
        return


class CountingProxy:
    """Forwards every request to ``target`` and counts it as (service, operation)."""

    def __init__(self, target_url: str, name: str) -> None:
        target = urlsplit(target_url)
        self.name = name
        self.target_host = target.hostname or "127.0.0.1"
        self.target_port = target.port or 80
        self._counts: Counter[tuple[str, str]] = Counter()
        # Seconds spent waiting for the emulator per operation: where a worker's time goes.
        self._seconds: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        # DynamoDB units of what passes through, when set (the per-job cases): it reads the
        # items before and after each write, load a throughput run must not carry.
        self.meter: DynamoDBMeter | None = None
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "CountingProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def count(self, service: str, operation: str, seconds: float = 0.0) -> None:
        with self._lock:
            self._counts[(service, operation)] += 1
            key = (service, operation)
            self._seconds[key] = self._seconds.get(key, 0.0) + seconds

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._seconds.clear()
        if self.meter is not None:
            self.meter.reset()

    def snapshot(self) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter(self._counts)

    def seconds(self) -> dict[tuple[str, str], float]:
        """Seconds the emulator took to answer, summed per (service, operation)."""
        with self._lock:
            return dict(self._seconds)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self
        local = threading.local()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _upstream(self) -> http.client.HTTPConnection:
                connection: http.client.HTTPConnection | None = getattr(local, "conn", None)
                if connection is None:
                    connection = http.client.HTTPConnection(
                        proxy.target_host, proxy.target_port, timeout=120
                    )
                    local.conn = connection
                return connection

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                query = parse_qs(split.query, keep_blank_values=True)
                service = service_of(self.headers, query)
                operation = operation_of(
                    service, self.command, split.path, self.headers, query, body
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["Host"] = self.headers.get("Host", "")
                if body or self.command in {"POST", "PUT"}:
                    headers["Content-Length"] = str(len(body))
                exchanged: list[tuple[http.client.HTTPResponse, bytes]] = []

                def send() -> tuple[int, bytes]:
                    try:
                        connection = self._upstream()
                        connection.request(self.command, self.path, body=body, headers=headers)
                        answer = connection.getresponse()
                        payload = answer.read()
                    except (OSError, http.client.HTTPException):
                        local.conn = None
                        connection = self._upstream()
                        connection.request(self.command, self.path, body=body, headers=headers)
                        answer = connection.getresponse()
                        payload = answer.read()
                    exchanged.append((answer, payload))
                    return answer.status, payload

                began = time.monotonic()
                if proxy.meter is not None and service == "dynamodb":
                    proxy.meter.around(operation, body, send)
                else:
                    send()
                answer, payload = exchanged[-1]
                if operation == RECEIVE and not carried_messages(payload):
                    operation = EMPTY_RECEIVE
                proxy.count(service, operation, time.monotonic() - began)
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                upstream_length = answer.getheader("Content-Length")
                if self.command == "HEAD" and upstream_length is not None:
                    self.send_header("Content-Length", upstream_length)
                else:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _forward  # noqa: N815 (http.server names)

        return Handler
