"""The command's choice of stack: the local one from its state file."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra.emulator import Emulator, start_moto
from infra.stack_state import StackNotRunning, StackState
from skylane_cli.stack_target import resolve_target


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    server = start_moto(port=0)
    try:
        yield server
    finally:
        server.stop()


def write_state(path: Path, endpoint_env: dict[str, str]) -> Path:
    state = StackState(
        stack_name="skylane-local",
        region=endpoint_env["AWS_DEFAULT_REGION"],
        endpoint_env=endpoint_env,
        components={},
        outputs={"DefaultQueueUrl": "http://queue"},
        started_at=datetime.now(UTC).isoformat(),
        api_url="http://127.0.0.1:8000/",
    )
    return state.write(path)


def test_the_local_stack_is_the_default_and_its_clients_reach_the_emulator(
    emulator: Emulator, tmp_path: Path
) -> None:
    state_path = write_state(tmp_path / "stack.json", emulator.endpoint.env())
    target = resolve_target(state_path=state_path)
    assert target.local
    assert target.api_url == "http://127.0.0.1:8000"
    assert target.output("DefaultQueueUrl") == "http://queue"
    sqs = target.client("sqs")
    url = sqs.create_queue(QueueName="target-check")["QueueUrl"]
    assert url in emulator.endpoint.client("sqs").list_queues()["QueueUrls"]


def test_a_missing_output_is_named(emulator: Emulator, tmp_path: Path) -> None:
    target = resolve_target(state_path=write_state(tmp_path / "s.json", emulator.endpoint.env()))
    with pytest.raises(LookupError, match="LightQueueUrl"):
        target.output("LightQueueUrl")


def test_no_local_stack_says_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(StackNotRunning, match="make up"):
        resolve_target(state_path=tmp_path / "absent.json")
