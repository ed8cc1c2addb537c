"""API Gateway's auth in front of the local API, which (under uvicorn) checks none.

``IAM``: a request passes only with a SigV4 signature for execute-api that verifies (recomputed
with botocore over the request as received, with the credentials the test gave the signer);
otherwise 403 ``{"message":"Forbidden"}``. ``JWT``: only with ``Authorization: Bearer <token>``
(the one token the test chose, in place of a real JWT's validation); otherwise 401
``{"message":"Unauthorized"}``, as API Gateway's JWT authorizer answers. The routes the
template leaves open for that auth pass as they are. Every request is recorded with its verdict.
"""

import hmac
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# template.yaml's routes with AuthorizationType NONE (tests/unit/test_template_contracts.py).
OPEN_ROUTES = {
    "IAM": [r"GET /health"],
    "JWT": [r"GET /health", r"GET /dashboard", r"GET /dashboard/assets/[^/?]+"],
}
HOP_BY_HOP = {"connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"}
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"execute-api/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<sig>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Seen:
    method: str
    # The request target: path and query, as received.
    target: str
    headers: dict[str, str]
    # "open" (a route without auth), "passed", or why it was refused.
    verdict: str


class GatewayStandIn:
    def __init__(
        self,
        upstream_url: str,
        auth: str,
        credentials: Credentials | None = None,
        region: str | None = None,
        token: str | None = None,
    ) -> None:
        self.upstream_url = upstream_url.rstrip("/")
        self.auth = auth
        self.credentials = credentials
        self.region = region
        self.token = token
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=30)
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                stand_in.handle(self)

            def do_POST(self) -> None:
                stand_in.handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def requests(self, verdict: str | None = None) -> list[Seen]:
        with self._lock:
            return [seen for seen in self.seen if verdict in (None, seen.verdict)]

    def verdict(self, method: str, target: str, headers: dict[str, str], body: bytes) -> str:
        path = target.partition("?")[0]
        if any(re.fullmatch(route, f"{method} {path}") for route in OPEN_ROUTES[self.auth]):
            return "open"
        if self.auth == "JWT":
            authorization = headers.get("authorization", "")
            return "passed" if authorization == f"Bearer {self.token}" else "no valid token"
        return self.check_signature(method, target, headers, body)

    def check_signature(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> str:
        assert self.credentials is not None
        assert self.region is not None
        match = AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        if match is None:
            return "not signed"
        if (match["key"], match["region"]) != (self.credentials.access_key, self.region):
            return f"signed for {match['key']} in {match['region']}"
        if headers.get("x-amz-security-token") != self.credentials.token:
            return "wrong session token"
        signed_names = match["signed"].split(";")
        if "host" not in signed_names or "x-amz-date" not in signed_names:
            return "host or date not signed"
        again = AWSRequest(
            method=method,
            url=f"http://{headers['host']}{target}",
            data=body,
            headers={name: headers.get(name, "") for name in signed_names},
        )
        again.context["timestamp"] = headers["x-amz-date"]
        auth = SigV4Auth(self.credentials, "execute-api", self.region)
        expected = auth.signature(auth.string_to_sign(again, auth.canonical_request(again)), again)
        return "passed" if hmac.compare_digest(expected, match["sig"]) else "bad signature"

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in handler.headers.items()}
        verdict = self.verdict(handler.command, handler.path, headers, body)
        with self._lock:
            self.seen.append(Seen(handler.command, handler.path, headers, verdict))
        if verdict not in ("open", "passed"):
            status, message = (401, "Unauthorized") if self.auth == "JWT" else (403, "Forbidden")
            self._answer(
                handler,
                status,
                [("Content-Type", "application/json")],
                f'{{"message":"{message}"}}'.encode(),
            )
            return
        forwarded = {
            name: value for name, value in headers.items() if name not in HOP_BY_HOP | {"host"}
        }
        response = self._http.request(
            handler.command, f"{self.upstream_url}{handler.path}", headers=forwarded, content=body
        )
        kept = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in HOP_BY_HOP | {"content-length", "content-encoding"}
        ]
        self._answer(handler, response.status_code, kept, response.content)

    @staticmethod
    def _answer(
        handler: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
