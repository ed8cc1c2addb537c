"""The dashboard through a proxy on 127.0.0.1, for an API a browser cannot call by itself.

With ``ApiAuth=IAM`` every request must carry a SigV4 signature, which a browser cannot make:
the page and every request it makes go through here to the stack's API, signed with the user's
credentials (stack_api.sign_for_execute_api). What it refuses to do: the README's *Dashboard*,
"What the proxy will do, and no more".
"""

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, unquote_plus

import httpx

from skylane_cli.stack_api import ApiError, sign_for_execute_api

LOOPBACK = "127.0.0.1"
# RFC 9110 7.6.1, and the legacy Proxy-Connection: about one connection, never sent on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# The browser's view of this proxy rather than of the API; cookies for 127.0.0.1 (any port).
# Content-Length is set again for the body as sent, Accept-Encoding by httpx.
REQUEST_HEADERS_NOT_SENT = frozenset(
    {"host", "content-length", "cookie", "origin", "referer", "accept-encoding"}
)
# httpx hands over the body decoded, and its length is set again.
RESPONSE_HEADERS_NOT_SENT = frozenset({"content-length", "content-encoding", "set-cookie"})
# A page's requests are small (the API refuses bodies over 256 KiB).
MAX_BODY_BYTES = 1024 * 1024
# API Gateway gives up after 30 s.
TIMEOUT_SECONDS = 35.0


@dataclass(frozen=True)
class Upstream:
    """The API every request goes to, and how to authenticate to it."""

    # The stack's ApiUrl, without a trailing slash.
    base_url: str
    # ApiAuth=IAM: sign each request for execute-api in this region; None sends it unsigned.
    sigv4_region: str | None = None
    timeout: float = TIMEOUT_SECONDS


class Refused(Exception):
    """A request this proxy does not send on; answered with this status and detail."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    """The headers a Connection header names: hop-by-hop too (RFC 9110 7.6.1)."""
    return {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
        if token.strip()
    }


def end_to_end(
    headers: Iterable[tuple[str, str]], dropped: frozenset[str]
) -> list[tuple[str, str]]:
    """The headers without hop-by-hop ones, those Connection names, and ``dropped``."""
    items = list(headers)
    named = _connection_tokens(items)
    return [
        (name, value)
        for name, value in items
        if (lower := name.lower()) not in HOP_BY_HOP and lower not in named and lower not in dropped
    ]


def sigv4_query(target: str) -> str:
    """The target with its query encoded as SigV4 encodes it (RFC 3986 unreserved characters
    only; a form's ``+`` is a space, ``%20``). botocore signs the query as it is written and
    API Gateway checks it re-encoded, so both then agree whatever the browser's encoding."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    pairs = []
    for pair in query.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            pairs.append(
                f"{quote(unquote_plus(name), safe='-_.~')}={quote(unquote_plus(value), safe='-_.~')}"
            )
    return f"{path}?{'&'.join(pairs)}" if pairs else path


class DashboardProxy(ThreadingHTTPServer):
    """The proxy, listening on 127.0.0.1 (``port`` 0: a free port; see ``url``).

    ``transport`` replaces the network to the API (tests). Call ``serve_forever()``, and
    ``server_close()`` once done.
    """

    daemon_threads = True

    def __init__(
        self, upstream: Upstream, port: int = 0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.upstream = upstream
        self.api_url = httpx.URL(upstream.base_url.rstrip("/"))
        if self.api_url.scheme not in ("http", "https") or not self.api_url.host:
            raise ValueError(f"not an API URL: {upstream.base_url!r}")
        self.http = httpx.Client(
            transport=transport, timeout=upstream.timeout, follow_redirects=False
        )
        super().__init__((LOOPBACK, port), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def own_hosts(self) -> frozenset[str]:
        return frozenset({f"{LOOPBACK}:{self.port}", f"localhost:{self.port}"})

    @property
    def own_origins(self) -> frozenset[str]:
        return frozenset(f"http://{host}" for host in self.own_hosts)

    def server_close(self) -> None:
        super().server_close()
        self.http.close()

    def check(self, target: str, headers: Message) -> None:
        """Refuses what this proxy must not send on (see the module's docstring)."""
        host = (headers.get("Host") or "").lower()
        if host not in self.own_hosts:
            raise Refused(421, f"this proxy answers only as {self.url}, not as {host or '?'}")
        if not target.startswith("/"):
            raise Refused(400, "only paths are sent on, to the stack's API")
        site = headers.get("Sec-Fetch-Site")
        origin = headers.get("Origin")
        if (site is not None and site not in ("same-origin", "none")) or (
            origin is not None and origin not in self.own_origins
        ):
            raise Refused(403, "only the dashboard this proxy serves may call it")

    def forward(self, method: str, target: str, headers: Message, body: bytes) -> httpx.Response:
        """Sends the request on to the API (signed when the API takes IAM auth); answers the
        API's response, its body read and decoded. Raises Refused when the API cannot be
        reached or the request cannot be signed."""
        region = self.upstream.sigv4_region
        if region is not None:
            target = sigv4_query(target)
        # The proxy's paths are the API's own (a stage prefix in ApiUrl stays in the path).
        url = self.api_url.copy_with(raw_path=target.encode("latin-1"))
        if (url.scheme, url.host, url.port) != (
            self.api_url.scheme,
            self.api_url.host,
            self.api_url.port,
        ):
            raise Refused(400, "only paths are sent on, to the stack's API")
        dropped = REQUEST_HEADERS_NOT_SENT
        if region is not None:
            # The signature is the only authorization sent; nothing of the page's may mix in.
            dropped |= {"authorization", "x-amz-date", "x-amz-security-token"}
        sent = [
            (name, value)
            for name, value in end_to_end(headers.items(), dropped)
            if not name.lower().startswith("sec-")
        ]
        try:
            request = self.http.build_request(method, url, headers=sent, content=body or None)
            if region is not None:
                sign_for_execute_api(request, region)
            response = self.http.send(request)
        except ApiError as error:
            raise Refused(503, str(error)) from error
        except httpx.TimeoutException as error:
            raise Refused(
                504, f"the API at {self.upstream.base_url} did not answer in time ({error})"
            ) from error
        except httpx.HTTPError as error:
            raise Refused(
                502, f"the API at {self.upstream.base_url} does not answer: {error}"
            ) from error
        return response

    def local_location(self, location: str) -> str:
        """A redirect to the API itself stays on the proxy (whose paths are the API's)."""
        origin = str(self.api_url.copy_with(raw_path=b"/")).rstrip("/")
        if location == origin or location.startswith(origin + "/"):
            return location[len(origin) :] or "/"
        return location


class _Handler(BaseHTTPRequestHandler):
    server: DashboardProxy
    protocol_version = "HTTP/1.1"
    server_version = "skylane-dashboard"
    sys_version = ""

    def do_GET(self) -> None:
        self._proxy()

    def do_HEAD(self) -> None:
        self._proxy()

    def do_POST(self) -> None:
        self._proxy()

    def do_PUT(self) -> None:
        self._proxy()

    def do_PATCH(self) -> None:
        self._proxy()

    def do_DELETE(self) -> None:
        self._proxy()

    def do_OPTIONS(self) -> None:
        self._proxy()

    def _proxy(self) -> None:
        try:
            self.server.check(self.path, self.headers)
            body = self._body()
            response = self.server.forward(self.command, self.path, self.headers, body)
        except Refused as refused:
            if refused.status >= 500:
                self.log_message("%s %s: %s", self.command, self.path, refused.detail)
            self._answer(refused.status, [("Content-Type", "application/json")], refused)
            return
        headers = end_to_end(response.headers.multi_items(), RESPONSE_HEADERS_NOT_SENT)
        headers = [
            (name, self.server.local_location(value) if name.lower() == "location" else value)
            for name, value in headers
        ]
        self._answer(response.status_code, headers, response.content)

    def _body(self) -> bytes:
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True
            raise Refused(411, "send the body with a Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            raise Refused(413, f"a request body may have at most {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes | Refused) -> None:
        if isinstance(body, Refused):
            body = json.dumps({"detail": body.detail}).encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        # 1xx, 204 and 304 have no body and no length (RFC 9110 8.6).
        if status >= 200 and status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Quiet: the page polls every 2 s. Failures are logged (log_message)."""

    def log_message(self, format: str, *args: Any) -> None:
        print(f"skylane dashboard: {format % args}", file=sys.stderr, flush=True)
