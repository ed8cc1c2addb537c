"""The state file make up writes for commands, read back as written."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra.emulator import AwsEndpoint
from infra.stack_state import StackNotRunning, StackState, from_deployed
from infra.template import DeployedStack


def test_the_state_of_a_deployed_stack_round_trips(tmp_path: Path) -> None:
    stack = DeployedStack(
        stack_name="skylane-local",
        outputs={"JobsTableName": "skylane-local-jobs"},
        parameters={},
        physical_ids={},
        function_envs={"ApiFunction": {"A": "1"}, "SchedulerFunction": {"S": "2"}},
        worker_env={"W": "3"},
    )
    started = datetime(2026, 11, 28, 23, 33, 10, tzinfo=UTC)
    endpoint = AwsEndpoint(url="http://127.0.0.1:4599")
    state = from_deployed(stack, endpoint, started, "http://127.0.0.1:8000")
    read = StackState.read(state.write(tmp_path / "dir" / "stack.json"))
    assert read == state
    assert read.start == started
    assert read.endpoint_url == "http://127.0.0.1:4599"
    assert read.component_env("api") == {"A": "1"}
    assert read.component_env("worker") == {"W": "3"}
    assert read.component_env("SchedulerFunction") == {"S": "2"}
    with pytest.raises(KeyError, match="known: ApiFunction, SchedulerFunction, api, worker"):
        read.component_env("Nope")


def test_no_state_file_means_no_running_stack(tmp_path: Path) -> None:
    with pytest.raises(StackNotRunning, match="make up"):
        StackState.read(tmp_path / "stack.json")
