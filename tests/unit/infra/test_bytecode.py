"""Which Python 3.13 compiles a package's bytecode, and that a package is left alone without one."""

import os
import stat
from pathlib import Path

import pytest

from infra import bytecode


def fake_python(directory: Path, script: str) -> None:
    executable = directory / "python3.13"
    executable.write_text(f"#!/bin/sh\n{script}\n")
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)


def test_a_python313_on_path_compiles_every_directory_in_one_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_python(tmp_path, "echo 3.13")
    monkeypatch.setenv("PATH", str(tmp_path))

    command = bytecode.compile_command([Path("a"), Path("b")]) or []

    assert command[0] == str(tmp_path / "python3.13")
    assert command[-2:] == ["a", "b"]
    assert "unchecked-hash" in command


def test_a_shim_that_cannot_run_python313_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What pyenv's shim does when 3.13 is not installed.
    fake_python(tmp_path, "exit 127")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(bytecode, "compiler_image", lambda: None)

    assert bytecode.compile_command([tmp_path]) is None


def test_without_a_python313_the_package_is_left_as_it_is_and_the_build_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(bytecode, "compiler_image", lambda: None)
    (tmp_path / "module.py").write_text("X = 1\n")
    stamp = tmp_path / "compiled.stamp"

    assert bytecode.main([str(tmp_path), "--stamp", str(stamp)]) == 0

    assert not stamp.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["module.py"]
    assert "without bytecode" in capsys.readouterr().err


def test_the_stand_in_compiles_every_directory_in_one_container_as_this_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(bytecode, "compiler_image", lambda: "skylane-local/python:3.13-x86_64")

    command = bytecode.compile_command([tmp_path / "deps", tmp_path / "own"]) or []

    assert command[:2] == ["docker", "run"]
    assert f"{tmp_path / 'deps'}:/package/0" in command
    assert f"{tmp_path / 'own'}:/package/1" in command
    assert command[-2:] == ["/package/0", "/package/1"]
    user = command.index("--user")
    assert command[user + 1] == f"{os.getuid()}:{os.getgid()}"
    # The container reaches nothing: compiling needs no network.
    network = command.index("--network")
    assert command[network + 1] == "none"
