import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from functions.tasks.scratch import scratch_dir, sweep_scratch
from skylane.core.settings import get_settings

HOUR = 3600


def aged(path: Path, seconds: float, content: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    moment = time.time() - seconds
    os.utime(path, (moment, moment))
    return path


def test_old_files_are_deleted_and_fresh_ones_kept(tmp_path: Path) -> None:
    root = tmp_path / "scratch"
    old = aged(root / "old.bin", 2 * HOUR, b"12345")
    nested_old = aged(root / "job" / "part.bin", 2 * HOUR, b"123")
    fresh = aged(root / "fresh.bin", 60)

    outcome = sweep_scratch(root, HOUR)

    assert (outcome.files_deleted, outcome.bytes_freed) == (2, 8)
    assert not old.exists()
    assert not nested_old.exists()
    assert fresh.exists()
    # Directories, the scratch directory itself included, are kept.
    assert (root / "job").is_dir()
    assert root.is_dir()


def test_nothing_outside_the_scratch_directory_is_touched(tmp_path: Path) -> None:
    root = tmp_path / "scratch"
    root.mkdir()
    outside_file = aged(tmp_path / "elsewhere" / "precious.txt", 2 * HOUR)
    outside_dir_file = aged(tmp_path / "other" / "precious.txt", 2 * HOUR)
    (root / "link-to-file").symlink_to(outside_file)
    (root / "link-to-dir").symlink_to(outside_dir_file.parent, target_is_directory=True)
    os.utime(root / "link-to-file", (0, 0), follow_symlinks=False)

    outcome = sweep_scratch(root, HOUR)

    assert outcome.files_deleted == 0
    assert outside_file.exists()
    assert outside_dir_file.exists()
    assert (root / "link-to-file").is_symlink()


def test_a_missing_scratch_directory_is_nothing_to_sweep(tmp_path: Path) -> None:
    outcome = sweep_scratch(tmp_path / "never-created", HOUR)

    assert (outcome.files_deleted, outcome.bytes_freed) == (0, 0)


def test_scratch_dir_is_created_private_where_configured(
    aws: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = tmp_path / "worker" / "scratch"
    monkeypatch.setenv("SCRATCH_DIR", str(configured))
    get_settings.cache_clear()

    path = scratch_dir()

    assert path == configured
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
