"""`skylane dashboard`'s proxy (skylane_cli/dashboard_proxy.py), on a real loopback socket, with
the API replaced by an httpx transport that records what reaches it.

Signatures are recomputed with botocore over the request as the API received it, as
test_iam_auth.py does for `skylane submit`."""

import http.client
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from botocore.credentials import Credentials

from infra.emulator import free_port
from infra.stack_state import StackState
from skylane_cli import main as cli
from skylane_cli.dashboard_proxy import DashboardProxy, Upstream, sigv4_query
from tests.unit.skylane_cli.test_iam_auth import API_URL, REGION, expected_signature

API_HOST = httpx.URL(API_URL).host
Answer = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def caller(monkeypatch: pytest.MonkeyPatch) -> Credentials:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-1")
    return credentials


def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


class Running:
    """A proxy serving on a thread; ``received`` is what reached the API."""

    def __init__(self, upstream: Upstream, answer: Answer | None, transport: Any = None) -> None:
        self.received: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            self.received.append(request)
            return (answer or ok)(request)

        self.proxy = DashboardProxy(upstream, transport=transport or httpx.MockTransport(record))
        self._thread = threading.Thread(
            target=self.proxy.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return self.proxy.url

    def get(self, path: str, **options: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=10, **options)

    def post(self, path: str, **options: Any) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", timeout=10, **options)

    def raw(self, request: bytes) -> bytes:
        """Sends bytes as they are (a request httpx would not make); answers the reply."""
        with socket.create_connection(("127.0.0.1", self.proxy.port), timeout=10) as sock:
            sock.sendall(request)
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        return reply

    def close(self) -> None:
        self.proxy.shutdown()
        self.proxy.server_close()
        self._thread.join(10)


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"path": request.url.path})


@pytest.fixture
def start() -> Iterator[Callable[..., Running]]:
    running: list[Running] = []

    def starter(
        sigv4_region: str | None = None,
        answer: Answer | None = None,
        base_url: str = API_URL,
        transport: Any = None,
    ) -> Running:
        proxy = Running(Upstream(base_url, sigv4_region=sigv4_region), answer, transport)
        running.append(proxy)
        return proxy

    yield starter
    for proxy in running:
        proxy.close()


def test_it_listens_on_loopback_only(start: Callable[..., Running]) -> None:
    proxy = start()
    assert proxy.proxy.socket.getsockname()[0] == "127.0.0.1"
    assert proxy.url == f"http://127.0.0.1:{proxy.proxy.port}"
    # There is no way to ask for another address: the port is the only choice.
    with pytest.raises(TypeError):
        DashboardProxy(Upstream(API_URL), host="0.0.0.0")  # type: ignore[call-arg]


def test_iam_requests_are_signed_over_what_the_api_receives(
    start: Callable[..., Running], caller: Credentials
) -> None:
    proxy = start(sigv4_region=REGION)

    answer = proxy.post(
        "/queues/default/redrive",
        json={"job_ids": ["job-1"]},
        headers={"Authorization": "Bearer from-the-page", "Cookie": "other-app=secret"},
    )

    assert answer.status_code == 200
    (request,) = proxy.received
    assert (request.url.scheme, request.url.host) == ("https", API_HOST)
    assert request.url.path == "/queues/default/redrive"
    assert request.headers["Host"] == API_HOST
    assert json.loads(request.content) == {"job_ids": ["job-1"]}
    authorization = request.headers["Authorization"]
    assert authorization.startswith(
        f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{request.headers['X-Amz-Date'][:8]}/"
        f"{REGION}/execute-api/aws4_request, SignedHeaders="
    )
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"host", "x-amz-date", "content-type", "x-amz-security-token"} <= set(signed)
    assert request.headers["X-Amz-Security-Token"] == "token-1"
    assert authorization.endswith(f"Signature={expected_signature(request, caller)}")
    # Neither the page's own Authorization nor another local app's cookie went along.
    assert request.headers.get_list("Authorization") == [authorization]
    assert "cookie" not in request.headers


def test_a_get_with_a_query_is_signed_as_api_gateway_checks_it(
    start: Callable[..., Running], caller: Credentials
) -> None:
    proxy = start(sigv4_region=REGION)

    assert proxy.get("/jobs?task=skylane.send_email&cursor=a+b*c%3D").status_code == 200

    (request,) = proxy.received
    # Encoded as SigV4 encodes it, so botocore's signature and API Gateway's check agree.
    assert request.url.query == b"task=skylane.send_email&cursor=a%20b%2Ac%3D"
    assert request.headers["Authorization"].endswith(
        f"Signature={expected_signature(request, caller)}"
    )


def test_sigv4_query_keeps_the_path_and_unreserved_characters() -> None:
    assert sigv4_query("/jobs") == "/jobs"
    assert sigv4_query("/jobs?") == "/jobs"
    assert sigv4_query("/jobs/x?logs=false") == "/jobs/x?logs=false"
    assert sigv4_query("/a?k=-_.~&flag") == "/a?k=-_.~&flag="


def test_without_iam_nothing_is_signed_and_a_bearer_token_goes_through(
    start: Callable[..., Running], caller: Credentials
) -> None:
    proxy = start(sigv4_region=None)

    proxy.get("/queues", headers={"Authorization": "Bearer the-token"})
    proxy.get("/jobs")

    with_token, without = proxy.received
    assert with_token.headers.get_list("Authorization") == ["Bearer the-token"]
    assert "authorization" not in without.headers
    assert not [name for name in with_token.headers if name.lower().startswith("x-amz-")]


def test_the_page_and_its_assets_come_from_the_api(start: Callable[..., Running]) -> None:
    def page(request: httpx.Request) -> httpx.Response:
        csp = {"Content-Security-Policy": "default-src 'self'", "Cache-Control": "no-cache"}
        return httpx.Response(200, html="<!doctype html><title>skylane</title>", headers=csp)

    proxy = start(answer=page)

    answer = proxy.get("/dashboard")

    assert answer.status_code == 200
    assert answer.text == "<!doctype html><title>skylane</title>"
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.headers["Content-Security-Policy"] == "default-src 'self'"
    assert [request.url.path for request in proxy.received] == ["/dashboard"]


def test_hop_by_hop_headers_stay_on_their_hop(start: Callable[..., Running]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={},
            headers=[
                ("Connection", "X-Upstream-Hop"),
                ("X-Upstream-Hop", "1"),
                ("Keep-Alive", "timeout=5"),
                ("Proxy-Authenticate", "Basic"),
                ("Upgrade", "h2c"),
                ("Set-Cookie", "session=1"),
                ("X-Request-Id", "r-1"),
            ],
        )

    proxy = start(answer=answer)
    connection = http.client.HTTPConnection("127.0.0.1", proxy.proxy.port, timeout=10)
    connection.putrequest("GET", "/queues", skip_accept_encoding=True)
    for name, value in [
        ("Connection", "keep-alive, X-Private"),
        ("X-Private", "1"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"),
        ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
        ("Proxy-Connection", "keep-alive"),
        ("Upgrade", "websocket"),
        ("Idempotency-Key", "key-1"),
        ("X-Request-Id", "from-the-page"),
    ]:
        connection.putheader(name, value)
    connection.endheaders()
    reply = connection.getresponse()
    reply.read()
    connection.close()

    (request,) = proxy.received
    sent = {name.lower() for name in request.headers}
    assert sent.isdisjoint(
        {"x-private", "keep-alive", "te", "proxy-authorization", "proxy-connection", "upgrade"}
    )
    # httpx's own Connection header, for its own hop, names nothing of the page's.
    assert "x-private" not in request.headers.get("Connection", "").lower()
    assert request.headers["Idempotency-Key"] == "key-1"
    assert request.headers["X-Request-Id"] == "from-the-page"
    answered = {name.lower() for name, _ in reply.getheaders()}
    assert answered.isdisjoint(
        {"x-upstream-hop", "keep-alive", "proxy-authenticate", "upgrade", "set-cookie"}
    )
    assert reply.getheader("X-Request-Id") == "r-1"
    assert reply.getheader("Connection") in (None, "keep-alive")


def test_the_apis_errors_come_back_with_their_status(start: Callable[..., Running]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/jobs":
            return httpx.Response(422, json={"detail": "unknown state 'DONE'"})
        if request.url.path == "/queues":
            return httpx.Response(
                503, json={"detail": "SQS is unavailable"}, headers={"Retry-After": "5"}
            )
        return httpx.Response(403, json={"message": "Forbidden"})

    proxy = start(answer=answer)

    refused = proxy.get("/jobs?state=DONE")
    unavailable = proxy.get("/queues")
    forbidden = proxy.get("/jobs/x")

    assert (refused.status_code, refused.json()) == (422, {"detail": "unknown state 'DONE'"})
    assert (unavailable.status_code, unavailable.headers["Retry-After"]) == (503, "5")
    assert unavailable.json() == {"detail": "SQS is unavailable"}
    assert (forbidden.status_code, forbidden.json()) == (403, {"message": "Forbidden"})


def test_an_api_that_is_down_is_a_502_that_says_so(start: Callable[..., Running]) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    proxy = start(base_url=down, transport=httpx.HTTPTransport())

    answer = proxy.get("/queues")

    assert answer.status_code == 502
    assert answer.json()["detail"].startswith(f"the API at {down} does not answer:")


def test_an_api_that_does_not_answer_in_time_is_a_504(start: Callable[..., Running]) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    proxy = start(answer=slow)

    answer = proxy.get("/jobs")

    assert answer.status_code == 504
    assert "did not answer in time" in answer.json()["detail"]


def test_iam_without_credentials_is_a_503_and_nothing_is_sent(
    start: Callable[..., Running], monkeypatch: pytest.MonkeyPatch
) -> None:
    no_credentials(monkeypatch)
    proxy = start(sigv4_region=REGION)

    answer = proxy.get("/queues")

    assert answer.status_code == 503
    assert "no AWS credentials" in answer.json()["detail"]
    assert proxy.received == []


def test_only_paths_of_the_api_are_sent_on(start: Callable[..., Running]) -> None:
    proxy = start()
    host = f"127.0.0.1:{proxy.proxy.port}"

    absolute = proxy.raw(
        f"GET http://evil.example/x HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    )
    authority = proxy.raw(b"CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n")
    assert proxy.get("//evil.example/x").status_code == 200

    assert absolute.startswith(b"HTTP/1.1 400 ")
    assert authority.split(b" ")[1] in (b"400", b"501")
    (request,) = proxy.received
    # A path that looks like an authority is still a path on the API (http.server makes its
    # leading // one /).
    assert (request.url.host, request.url.raw_path) == (API_HOST, b"/evil.example/x")


def test_it_answers_only_to_its_own_name(start: Callable[..., Running]) -> None:
    """A page on another site reaching 127.0.0.1 by DNS rebinding names its own host."""
    proxy = start()

    rebound = proxy.get("/queues", headers={"Host": f"evil.example:{proxy.proxy.port}"})
    by_name = proxy.get("/queues", headers={"Host": f"localhost:{proxy.proxy.port}"})

    assert rebound.status_code == 421
    assert by_name.status_code == 200
    assert len(proxy.received) == 1


def test_other_sites_in_the_browser_cannot_use_it(start: Callable[..., Running]) -> None:
    """What a browser sends for another site's fetch or form: refused, nothing signed."""
    proxy = start()

    cross_origin = proxy.post("/queues/default/redrive", headers={"Origin": "https://evil.example"})
    other_port = proxy.post("/queues/default/redrive", headers={"Origin": "http://127.0.0.1:1"})
    cross_site = proxy.get("/jobs", headers={"Sec-Fetch-Site": "cross-site"})
    same_site = proxy.get("/jobs", headers={"Sec-Fetch-Site": "same-site"})
    own = proxy.post(
        "/queues/default/redrive",
        headers={"Origin": proxy.url, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"},
    )
    typed_in = proxy.get("/dashboard", headers={"Sec-Fetch-Site": "none"})

    assert [answer.status_code for answer in (cross_origin, other_port, cross_site, same_site)] == [
        403
    ] * 4
    assert (own.status_code, typed_in.status_code) == (200, 200)
    own_request, page_request = proxy.received
    # The browser's view of the proxy is not sent on.
    assert not {"origin", "referer", "sec-fetch-site", "sec-fetch-mode"} & set(own_request.headers)
    assert page_request.url.path == "/dashboard"


def test_a_redirect_to_the_api_stays_on_the_proxy(start: Callable[..., Running]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(307, headers={"Location": f"{API_URL}/jobs?state=SUCCESS"})

    proxy = start(answer=answer)

    answer_ = proxy.get("/jobs/?state=SUCCESS")

    assert answer_.status_code == 307
    assert answer_.headers["Location"] == "/jobs?state=SUCCESS"


def test_a_body_without_a_length_or_too_large_is_refused(start: Callable[..., Running]) -> None:
    proxy = start()
    host = f"127.0.0.1:{proxy.proxy.port}"

    chunked = proxy.raw(
        f"POST /uploads HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".encode()
    )
    huge = proxy.raw(
        f"POST /uploads HTTP/1.1\r\nHost: {host}\r\nContent-Length: 2000000\r\n\r\n".encode()
    )

    assert chunked.startswith(b"HTTP/1.1 411 ")
    assert huge.startswith(b"HTTP/1.1 413 ")
    assert proxy.received == []


# ------------------------------------------------------------------ the command


class StandIn(BaseHTTPRequestHandler):
    """The emulator (any answer means it is up) and the local API, in one tiny server."""

    seen: ClassVar[list[tuple[str, str, str | None]]] = []

    def do_GET(self) -> None:
        StandIn.seen.append((self.command, self.path, self.headers.get("Authorization")))
        body = b"<!doctype html><title>skylane</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def local_state(tmp_path: Path) -> Iterator[Path]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    StandIn.seen = []
    state = StackState(
        stack_name="skylane-local",
        region="eu-west-1",
        endpoint_env={"AWS_ENDPOINT_URL": url, "AWS_REGION": "eu-west-1"},
        components={},
        outputs={},
        started_at=datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        api_url=url,
    )
    yield state.write(tmp_path / "stack.json")
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_the_command_serves_the_local_stacks_dashboard(
    local_state: Path, caller: Credentials
) -> None:
    command = [sys.executable, "-m", "skylane_cli.main", "dashboard", "--state", str(local_state)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/dashboard")
        page = httpx.get(url, timeout=10)
        signed = httpx.get(url.replace("/dashboard", "/queues"), timeout=10)
    finally:
        child.terminate()
        _, err = child.communicate(timeout=10)
    assert page.status_code == 200
    assert "skylane" in page.text
    assert signed.status_code == 200
    # The local stack's ApiAuth is NONE: nothing signed.
    assert StandIn.seen[-2:] == [("GET", "/dashboard", None), ("GET", "/queues", None)]
    assert "listening on 127.0.0.1 only" in err


def test_the_command_signs_with_api_auth_iam(local_state: Path, caller: Credentials) -> None:
    command = [sys.executable, "-m", "skylane_cli.main", "dashboard", "--state", str(local_state)]
    child = subprocess.Popen(
        [*command, "--api-auth", "IAM"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        assert httpx.get(url, timeout=10).status_code == 200
    finally:
        child.terminate()
        child.communicate(timeout=10)
    # The command's first GET / asks whether the local stack's emulator is up.
    ((_, path, authorization),) = [seen for seen in StandIn.seen if seen[1] != "/"]
    assert path == "/dashboard"
    assert authorization is not None
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in authorization


def test_the_command_needs_credentials_to_sign_with(
    local_state: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_credentials(monkeypatch)

    code = cli.main(["dashboard", "--state", str(local_state), "--api-auth", "IAM"])

    assert code == 1
    assert "no AWS credentials were found to sign with" in capsys.readouterr().err
