"""The AWS endpoint the local stack runs against: moto's server embedded in this process,
MiniStack started for it (SKYLANE_EMULATOR=ministack, infra/ministack.py), or an emulator the user
already runs (AWS_ENDPOINT_URL, or LOCALSTACK_HOST as localstack-client reads it). What each kind
does differently is declared in infra/emulators.py.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core import config as moto_config
from moto.iam.models import iam_backends
from moto.server import ThreadedMotoServer

from infra import ministack, moto_authorization, moto_sqs_costs
from infra.emulators import MINISTACK_KIND, MOTO_KIND, EmulatorKind, detect_kind, kind_named
from skylane.core.settings import LOCALSTACK_EDGE_PORT

DEFAULT_PORT = 4599
PORT_VARIABLE = "SKYLANE_EMULATOR_PORT"
# Loopback unless the user asks otherwise; `make up` adds Docker's bridge for sam local's
# containers (infra/docker_bridge.py), never every address.
HOST_VARIABLE = "SKYLANE_EMULATOR_HOST"
HOST = "127.0.0.1"
REGION = "us-east-1"
# Which emulator `make up` and the integration tests start when no endpoint is named.
KIND_VARIABLE = "SKYLANE_EMULATOR"
# moto's: any value works there; fixed ones keep every process on the same moto account. Other
# emulators have their own (EmulatorKind.default_credentials).
FAKE_ACCESS_KEY = MOTO_KIND.default_credentials


@dataclass(frozen=True)
class AwsEndpoint:
    """Where AWS is for this stack, and the credentials every process uses there."""

    url: str
    region: str = REGION
    access_key_id: str = FAKE_ACCESS_KEY
    secret_access_key: str = FAKE_ACCESS_KEY
    # Temporary credentials (an assumed role) carry one.
    session_token: str | None = None
    # What the emulator behind the URL can do and lacks (infra/emulators.py).
    kind: EmulatorKind = MOTO_KIND

    def env(self) -> dict[str, str]:
        """The variables that point boto3 (and kombu's SQS transport) at this endpoint."""
        env = {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env

    @cached_property
    def session(self) -> boto3.Session:
        # One session: each new one loads botocore's service models again (a second per client).
        return boto3.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            region_name=self.region,
        )

    def client(self, service: str) -> Any:
        """A boto3 client for this endpoint, independent of this process's AWS_* variables."""
        return self.session.client(service, endpoint_url=self.url)  # type: ignore[call-overload]

    def account_id(self) -> str:
        """The account the emulator reports (moto's 123456789012, MiniStack's 000000000000)."""
        account: str = self.client("sts").get_caller_identity()["Account"]
        return account


@dataclass
class Emulator:
    """A running endpoint; ``stop`` is a no-op for one the user runs."""

    endpoint: AwsEndpoint
    server: ThreadedMotoServer | None = field(default=None, repr=False)
    # An emulator started as a child process for us (MiniStack), stopped with us.
    process: "subprocess.Popen[bytes] | None" = field(default=None, repr=False)
    # The same emulator on more addresses than loopback (Docker's bridge, for sam local's
    # containers), by address: one more server each, sharing this process's moto backends.
    listeners: dict[str, ThreadedMotoServer] = field(default_factory=dict, repr=False)

    @property
    def embedded(self) -> bool:
        return self.server is not None

    @property
    def port(self) -> int:
        port = urlsplit(self.endpoint.url).port
        assert port is not None, self.endpoint.url
        return port

    def listen_on(self, address: str) -> str:
        """Serve the same emulator on ``address`` too, at the same port; returns its URL.

        moto's backends live in this process, so every server of it sees the same resources.
        Only for the embedded emulator (the user's own listens where it was told to).
        """
        if self.server is None:
            raise RuntimeError("only the embedded emulator can listen on more addresses")
        url = f"http://{address}:{self.port}"
        if address not in self.listeners:
            self.listeners[address] = _start_server(address, self.port)
        return url

    def stop_listening(self, address: str) -> None:
        server = self.listeners.pop(address, None)
        if server is not None:
            server.stop()

    def stop(self) -> None:
        for address in list(self.listeners):
            self.stop_listening(address)
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.process is not None:
            # Its own process group: uv and the server it runs.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            self.process = None

    @property
    def kind(self) -> EmulatorKind:
        return self.endpoint.kind


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def configured_port(environ: Mapping[str, str] = os.environ) -> int:
    return int(environ.get(PORT_VARIABLE, DEFAULT_PORT))


def external_url(environ: Mapping[str, str] = os.environ) -> str | None:
    """The URL of the user's own emulator, if the environment names one."""
    url = environ.get("AWS_ENDPOINT_URL")
    if url:
        return url
    host = environ.get("LOCALSTACK_HOST")
    if not host:
        return None
    if ":" not in host:
        host = f"{host}:{LOCALSTACK_EDGE_PORT}"
    return f"http://{host}"


def external_endpoint(
    environ: Mapping[str, str] = os.environ, kind: EmulatorKind | None = None
) -> AwsEndpoint | None:
    """The user's own emulator, if the environment names one.

    Its kind is $SKYLANE_EMULATOR, or ``kind``, or what its health path says (detect_kind);
    the credentials default to that kind's.
    """
    url = external_url(environ)
    if url is None:
        return None
    if environ.get(KIND_VARIABLE):
        kind = kind_named(environ[KIND_VARIABLE])
    elif kind is None:
        kind = detect_kind(url)
    return AwsEndpoint(
        url=url,
        region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or REGION,
        access_key_id=environ.get("AWS_ACCESS_KEY_ID") or kind.default_credentials,
        secret_access_key=environ.get("AWS_SECRET_ACCESS_KEY") or kind.default_credentials,
        kind=kind,
    )


def wait_until_answering(url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1.0):  # noqa: S310 (an http:// URL)
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is up
        except OSError as error:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no AWS emulator answering at {url}: {error}") from error
            time.sleep(0.1)


def load_aws_managed_policies() -> None:
    """The account's IAM with AWS's managed policies (AWSLambdaBasicExecutionRole, ...).

    moto loads them only when its IAM backend is created with that setting; the setting is put
    back at once, so moto's in-process mocks elsewhere in this process stay as fast as before.
    """
    config = moto_config.default_user_config.setdefault("iam", {})
    previous = config.get("load_aws_managed_policies", False)
    config["load_aws_managed_policies"] = True
    try:
        # Created on first access, with the setting as it is then.
        iam_backends[DEFAULT_ACCOUNT_ID]["aws"].get_account_summary()
    finally:
        config["load_aws_managed_policies"] = previous


def _start_server(address: str, port: int) -> ThreadedMotoServer:
    # ThreadedMotoServer binds in its own thread and waits for it forever when the bind
    # fails; binding here first turns a taken address into an OSError for the caller.
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((address, port))
    server = ThreadedMotoServer(ip_address=address, port=port, verbose=False)
    server.start()
    return server


def start_moto(port: int, bind: str = HOST, also_on: Sequence[str] = ()) -> Emulator:
    """Start moto's server on `bind` (loopback by default; ``port=0`` picks a free one), and
    on each address of ``also_on`` at the same port (Docker's bridge: infra/docker_bridge.py).

    Clients on this machine always reach it through 127.0.0.1.
    """
    moto_authorization.install()
    moto_sqs_costs.install()
    load_aws_managed_policies()
    server = ThreadedMotoServer(ip_address=bind, port=port, verbose=False)
    server.start()
    _, bound_port = server.get_host_and_port()
    endpoint = AwsEndpoint(url=f"http://{HOST}:{bound_port}")
    emulator = Emulator(endpoint=endpoint, server=server)
    try:
        wait_until_answering(f"{endpoint.url}/moto-api/")
        for address in also_on:
            if address != bind:
                emulator.listen_on(address)
    except BaseException:
        emulator.stop()
        raise
    return emulator


def start_ministack(port: int, bind: str = HOST, log_path: Path | None = None) -> Emulator:
    """Start MiniStack (infra/ministack.py) on ``bind``; ``port=0`` picks a free one. Its
    output goes to ``log_path`` (default .local/ministack-PORT.log)."""
    if port == 0:
        port = free_port()
    process = ministack.launch(port, bind, log_path)
    kind = MINISTACK_KIND
    endpoint = AwsEndpoint(
        url=f"http://{HOST}:{port}",
        access_key_id=kind.default_credentials,
        secret_access_key=kind.default_credentials,
        kind=kind,
    )
    emulator = Emulator(endpoint=endpoint, process=process)
    try:
        ministack.wait_until_ready(endpoint.url, process)
    except BaseException:
        emulator.stop()
        raise
    return emulator


def start_emulator(
    port: int | None = None,
    environ: Mapping[str, str] = os.environ,
    also_on: Sequence[str] = (),
    log_path: Path | None = None,
) -> Emulator:
    """Use the user's emulator if the environment names one; else start MiniStack when
    $SKYLANE_EMULATOR says so, or moto's server (on loopback, or $SKYLANE_EMULATOR_HOST, and on
    each address of ``also_on``)."""
    url = external_url(environ)
    if url is not None:
        # Its kind is told by its answers.
        wait_until_answering(url)
        external = external_endpoint(environ)
        assert external is not None
        return Emulator(endpoint=external)
    bind = environ.get(HOST_VARIABLE, HOST)
    requested = kind_named(environ.get(KIND_VARIABLE) or MOTO_KIND.name)
    if requested is MINISTACK_KIND:
        return start_ministack(configured_port(environ) if port is None else port, bind, log_path)
    if requested is not MOTO_KIND:
        raise ValueError(
            f"{KIND_VARIABLE}={requested.name} is not started by skylane: start it yourself and "
            "name it with LOCALSTACK_HOST or AWS_ENDPOINT_URL"
        )
    # An emulator on every address already answers on the bridge.
    extra = () if bind in ("0.0.0.0", "::") else also_on
    return start_moto(configured_port(environ) if port is None else port, bind, extra)
