"""Each package `make build` produces holds the runtime (skylane/) and its own function's code,
and nothing else of ours: no `skylane` command, no local stack, no other function."""

from pathlib import Path

import pytest

from tests.integration.sam_cli import REPO, built_packages

pytestmark = pytest.mark.integration

# Each function's folders under functions/: its own, plus the tasks the light lane runs.
FUNCTION_FOLDERS = {
    "ApiFunction": {"api"},
    "SchedulerFunction": {"scheduler"},
    "LightFunction": {"light", "tasks"},
}
NEVER_SHIPPED = ("skylane_cli", "infra", "bench", "tests")


def python_files(root: Path) -> set[str]:
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*.py")
        if "__pycache__" not in path.parts
    }


@pytest.mark.parametrize("function", FUNCTION_FOLDERS)
def test_a_package_holds_the_runtime_and_its_own_function_only(function: str) -> None:
    package = built_packages() / function

    assert [name for name in NEVER_SHIPPED if (package / name).exists()] == []
    assert python_files(package / "skylane") == python_files(REPO / "skylane")
    folders = {
        path.name
        for path in (package / "functions").iterdir()
        if path.is_dir() and path.name != "__pycache__"
    }
    assert folders == FUNCTION_FOLDERS[function]
    for folder in folders:
        shipped = python_files(package / "functions" / folder)
        assert shipped == python_files(REPO / "functions" / folder)
