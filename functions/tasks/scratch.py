"""The worker's scratch directory: the only place on disk its jobs write and its cleanup deletes.

Jobs spool through anonymous temporary files, which the kernel frees even when the process is
killed. A file is stale after ``scratch_max_age_seconds``, which is longer than any task's hard
time limit, so no running job's file is ever old enough.
"""

import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from skylane.core.settings import get_settings
from skylane.observability.logs import logger

# Other users of the machine (a laptop's /tmp) have no business reading job inputs.
SCRATCH_MODE = 0o700


@dataclass(frozen=True)
class SweepOutcome:
    files_deleted: int
    bytes_freed: int


def scratch_dir() -> Path:
    """The configured scratch directory, created if missing."""
    path = Path(get_settings().scratch_dir)
    path.mkdir(mode=SCRATCH_MODE, parents=True, exist_ok=True)
    return path


def sweep_scratch(root: Path, max_age_seconds: float, now: float | None = None) -> SweepOutcome:
    """Delete regular files under `root` not modified for `max_age_seconds`.

    os.fwalk with dir_fd-relative stat and unlink never follows a symlink, even one swapped in
    mid-walk, so nothing outside `root` can be reached. Directories (and `root`) are kept.
    """
    if not root.is_dir():
        return SweepOutcome(0, 0)
    cutoff = (time.time() if now is None else now) - max_age_seconds
    deleted = freed = 0
    for _, _, filenames, dir_fd in os.fwalk(root, follow_symlinks=False):
        for name in filenames:
            try:
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode) or info.st_mtime >= cutoff:
                    continue
                os.unlink(name, dir_fd=dir_fd)
            except FileNotFoundError:
                # Removed by its owner between listing and deletion: nothing left to free.
                continue
            except OSError as exc:
                # One file we may not delete must not stop the sweep (or the worker's start).
                logger.warning("scratch file not deleted", extra={"file": name, "error": str(exc)})
                continue
            deleted += 1
            freed += info.st_size
    return SweepOutcome(files_deleted=deleted, bytes_freed=freed)
