"""After a SnapStart restore the API makes fresh AWS clients and draws fresh random numbers."""

import random
from typing import Any

import boto3
import snapshot_restore_py

from functions.api.snapstart import refresh_after_restore, register_hooks
from skylane.core.aws import client
from tests.unit.functions.api.fresh_python import run_fresh


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


BEFORE_SNAPSHOT = """
import sys
import snapshot_restore_py
import functions.api.handler
from functions.api.app import app
from functions.api.cold_start import RouteBuiltOnFirstUse
from functions.api.handler import ROUTE_HELPERS

def unbuilt():
    return sum(isinstance(r, RouteBuiltOnFirstUse) and "_declared" in r.__dict__ for r in app.routes)

def stand_ins():
    return sum(type(sys.modules.get(m)).__name__ == "_ImportedOnFirstUse" for m in ROUTE_HELPERS)

before = (unbuilt(), stand_ins())
for hook, args, kwargs in snapshot_restore_py._before_snapshot_registry:
    hook(*args, **kwargs)
print(before[0] > 0, before[1] > 0, unbuilt(), stand_ins())
"""


def test_a_snapshot_holds_every_route_built_and_every_deferred_module(
    aws: dict[str, Any],
) -> None:
    """With SnapStart, nothing a cold start defers is left for a restored environment."""
    assert run_fresh(aws, BEFORE_SNAPSHOT).split() == ["True", "True", "0", "0"]
