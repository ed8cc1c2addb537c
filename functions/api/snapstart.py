"""Lambda SnapStart: what must not outlive a snapshot (template.yaml's ApiSnapStart).

With SnapStart, Lambda initializes the function once when a version is published, snapshots
the process and restores that snapshot for every new execution environment. Everything made
during the import is then shared by all of them, so after each restore:
- cached AWS clients and boto3's default session are dropped: they hold the credentials
  resolved before the snapshot and pooled connections opened by another environment; the
  next call builds fresh ones, which resolve the restored environment's credentials;
- Python's random module is seeded again: each restored environment would otherwise draw the
  same sequence (uuid4 and secrets read os.urandom and need nothing).

snapshot_restore_py ships with Lambda's Python runtimes; elsewhere nothing restores a snapshot
and there is nothing to register.
"""

import random
import sys

from skylane.core.aws import reset_clients


def refresh_after_restore() -> None:
    reset_clients()
    # boto3 is imported on first use (skylane/aws.py): only a process that imported it has a
    # default session to drop.
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        boto3.DEFAULT_SESSION = None  # type: ignore[attr-defined]
    random.seed()


def register_hooks() -> bool:
    """Register the after-restore hook; False where the runtime has no snapshot support."""
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:
        return False
    register_after_restore(refresh_after_restore)
    return True
