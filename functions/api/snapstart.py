"""Lambda SnapStart: what must not outlive a snapshot (template.yaml's ApiSnapStart).

Before the snapshot, what a cold start leaves for first use is done (every route built, every
deferred module imported: functions/api/cold_start.py), so the snapshot holds it. After each
restore, the cached AWS clients and boto3's default session are dropped (they hold the
credentials and connections of the environment that was snapshotted), and ``random`` is seeded
again so environments draw different sequences (README: *Performance*, "SnapStart").
"""

import random
import sys

from fastapi import FastAPI

from functions.api.cold_start import finish_deferred_work
from skylane.core.aws import reset_clients


def refresh_after_restore() -> None:
    reset_clients()
    # boto3 is imported on first use (skylane/aws.py): only a process that imported it has a
    # default session to drop.
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        boto3.DEFAULT_SESSION = None  # type: ignore[attr-defined]
    random.seed()


def register_hooks(app: FastAPI | None = None) -> bool:
    """Register the hooks (before the snapshot, for ``app``; after each restore); False where
    the runtime has no snapshot support."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    if app is not None:
        register_before_snapshot(finish_deferred_work, app)
    register_after_restore(refresh_after_restore)
    return True
