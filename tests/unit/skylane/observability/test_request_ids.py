"""Which request id a request gets, and that its lines never carry another request's id."""

import threading
import uuid

import pytest

from skylane.observability import request_ids
from skylane.observability.logs import log_keys, logger
from tests.unit.log_capture import capture


def gateway_event(request_id: str) -> dict[str, object]:
    return {"requestContext": {"requestId": request_id, "stage": "$default"}}


def test_api_gateways_id_wins_over_the_clients_header() -> None:
    assert request_ids.choose(gateway_event("JKJaXmPLvHcESHA="), "client-1") == "JKJaXmPLvHcESHA="


def test_a_valid_client_header_is_used_when_there_is_no_gateway() -> None:
    assert request_ids.choose(None, "client-1.retry:2") == "client-1.retry:2"


def test_without_either_a_fresh_uuid_is_made() -> None:
    first, second = request_ids.choose(None, None), request_ids.choose({}, None)
    assert first != second
    assert str(uuid.UUID(first)) == first


@pytest.mark.parametrize(
    "header",
    ["", "x" * (request_ids.MAX_LENGTH + 1), "has space", "new\nline", "-leading", 'q"uote', "é"],
)
def test_a_malformed_header_is_refused_with_the_rule(header: str) -> None:
    with pytest.raises(request_ids.InvalidRequestId, match="letters, digits"):
        request_ids.choose(None, header)


def test_a_bound_id_is_current_and_on_every_line_then_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with capture(monkeypatch) as captured:
        with request_ids.bound("req-1"):
            assert request_ids.current() == "req-1"
            logger.info("inside")
        logger.info("after")
    inside, after = captured.lines()
    assert inside["request_id"] == "req-1"
    assert "request_id" not in after
    assert request_ids.current() is None


def test_nested_keys_are_restored_after_the_inner_block(monkeypatch: pytest.MonkeyPatch) -> None:
    with capture(monkeypatch) as captured, log_keys(job_id="outer"):
        with log_keys(job_id="inner", attempt=2):
            logger.info("inner")
        logger.info("outer")
    inner, outer = captured.lines()
    assert (inner["job_id"], inner["attempt"]) == ("inner", 2)
    assert outer["job_id"] == "outer"
    assert "attempt" not in outer


def test_concurrent_threads_never_mix_their_request_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds = 50
    barrier = threading.Barrier(2)

    def handle(request_id: str) -> None:
        with request_ids.bound(request_id):
            for n in range(rounds):
                # Both threads log in lock step, interleaving line by line.
                barrier.wait()
                logger.info("working", extra={"n": n, "expected": request_id})

    with capture(monkeypatch) as captured:
        threads = [threading.Thread(target=handle, args=(rid,)) for rid in ("req-a", "req-b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    lines = captured.lines()
    assert len(lines) == 2 * rounds
    assert all(line["request_id"] == line["expected"] for line in lines)
