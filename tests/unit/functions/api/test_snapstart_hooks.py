"""After a SnapStart restore the API makes fresh AWS clients and draws fresh random numbers."""

import random
from typing import Any

import boto3
import snapshot_restore_py

from functions.api.snapstart import refresh_after_restore, register_hooks
from skylane.core.aws import client


def run_after_restore_hooks() -> None:
    """What Lambda's runtime does after restoring a snapshot: each hook, in registration order."""
    for hook, args, kwargs in snapshot_restore_py._after_restore_registry:
        hook(*args, **kwargs)


def test_the_handler_registers_the_hook(aws: dict[str, Any]) -> None:
    import functions.api.handler  # noqa: F401 (the import registers it)

    hooks = [hook for hook, _, _ in snapshot_restore_py._after_restore_registry]
    assert refresh_after_restore in hooks


def test_clients_and_the_default_session_are_new_after_a_restore(aws: dict[str, Any]) -> None:
    before = client("dynamodb")
    boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION
    assert register_hooks()
    run_after_restore_hooks()
    assert client("dynamodb") is not before
    assert boto3.DEFAULT_SESSION is not session


def test_random_numbers_differ_between_two_restores_of_one_snapshot() -> None:
    snapshot = random.getstate()
    draws = []
    for _ in range(2):
        random.setstate(snapshot)  # each restored environment starts from the snapshot's state
        refresh_after_restore()
        draws.append([random.random() for _ in range(4)])
    assert draws[0] != draws[1]
