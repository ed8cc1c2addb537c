"""The API handler's imports run with the garbage collector paused, and end with it running."""

import gc
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from functions.api.cold_start import collector_paused


@pytest.fixture
def collector_state() -> Iterator[None]:
    """Puts the collector back as it was: these tests switch it and freeze objects."""
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_paused_inside_and_running_after(collector_state: None) -> None:
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
        built = [[n] for n in range(1000)]
    assert gc.isenabled()
    # What the block built is frozen: later collections never scan it.
    assert gc.get_freeze_count() >= len(built)


def test_a_collector_that_was_off_stays_off(collector_state: None) -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_an_import_that_fails_still_restarts_the_collector(collector_state: None) -> None:
    gc.enable()
    with pytest.raises(ImportError), collector_paused():
        import functions.api.no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert gc.isenabled()


def test_the_handlers_import_leaves_boto3_for_the_first_aws_call(aws: dict[str, Any]) -> None:
    # boto3 is imported on first use (skylane/core/aws.py, skylane/core/dynamodb_items.py), so a
    # cold start that makes no AWS call (/health) never pays for it. Checked in a fresh process.
    env = {key: value for key, value in aws.items() if isinstance(value, str)}
    env |= {"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, functions.api.handler; print('boto3' in sys.modules)"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "False"
