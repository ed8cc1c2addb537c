"""The bench's emulator: moto's server as the local stack embeds it (infra.emulator.start_moto),
in a process of its own, counting every request by component (bench.request_counter).

Both choices keep the measuring out of what is measured. In the bench's own process the
emulator shared one interpreter lock with the bench's clients, and counting proxies in front of
it added a hop, and that lock again, to every request: each slowed most the system that waits
on the emulator most (README: *Throughput runs*).

``start`` runs ``python -m bench.emulator --port N`` and returns the Emulator; ``Counter`` reads
one component's counts from it.
"""

import argparse
import logging
import signal
import subprocess
import sys
import threading
from collections import Counter as Tally
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from bench.request_counter import CONTROL_PATH, RequestCounter, component_key
from infra.emulator import HOST, AwsEndpoint, Emulator, free_port, start_moto, wait_until_answering

REPO_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 60.0
# Where the counter finds the moto application a request came to.
APPLICATION = "bench.application"


def count_requests(endpoint: AwsEndpoint) -> None:
    """Put a RequestCounter in front of every moto server this process starts.

    moto's threaded server builds its application itself, so the counter goes in at the
    application's call.
    """
    answer = DomainDispatcherApplication.__call__
    counter = RequestCounter(
        lambda environ, start_response: answer(environ[APPLICATION], environ, start_response),
        lambda: endpoint.client("dynamodb"),
    )

    def counted(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        environ[APPLICATION] = self
        return counter(environ, start_response)

    DomainDispatcherApplication.__call__ = counted


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.emulator", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # werkzeug logs every request; the counter counts them instead.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    count_requests(AwsEndpoint(url=f"http://{HOST}:{args.port}"))
    emulator = start_moto(args.port)
    try:
        stopped.wait()
    finally:
        emulator.stop()
    return 0


def start(log_path: Path) -> Emulator:
    """The bench's emulator in a child process on a free port; ``stop`` ends it."""
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "bench.emulator", "--port", str(port)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    emulator = Emulator(endpoint=AwsEndpoint(url=f"http://{HOST}:{port}"), process=process)
    try:
        wait_until_answering(f"{emulator.endpoint.url}/moto-api/", START_TIMEOUT_SECONDS)
    except BaseException:
        emulator.stop()
        raise
    return emulator


class Counter:
    """One component's requests as the bench's emulator counted them."""

    def __init__(self, endpoint: AwsEndpoint, component: str) -> None:
        self.component = component
        self._url = f"{endpoint.url}{CONTROL_PATH}"

    @property
    def access_key(self) -> str:
        """What the component signs with (any secret key works on the emulator)."""
        return component_key(self.component)

    def _call(self, action: str, method: str = "POST", **query: str) -> Any:
        params = {"component": self.component, **query}
        answer = httpx.request(method, f"{self._url}{action}", params=params, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def _mine(self) -> dict[str, Any]:
        found: dict[str, Any] = self._call("counts", method="GET").get(self.component, {})
        return found

    def snapshot(self) -> Tally[tuple[str, str]]:
        return Tally({(s, op): n for s, op, n in self._mine().get("requests", [])})

    def seconds(self) -> dict[tuple[str, str], float]:
        """Seconds the emulator took to answer, summed per (service, operation)."""
        return {(s, op): t for s, op, t in self._mine().get("seconds", [])}

    def units(self) -> dict[str, dict[str, float]]:
        """DynamoDB units by kind and table or index, while metering is on (see ``meter``)."""
        found: dict[str, dict[str, float]] = self._mine().get("units", {})
        return found

    def reset(self) -> None:
        self._call("reset")

    def meter(self, on: bool) -> None:
        """Price this component's DynamoDB requests in units from now on (or stop)."""
        self._call("meter", on="1" if on else "0")


if __name__ == "__main__":
    sys.exit(main())
