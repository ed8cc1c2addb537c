"""The layout's import rules, read from the source (ast): the runtime (skylane/) imports none of
the deployables or tools, each function imports only the runtime, itself and the shared tasks,
and the tools (skylane_cli/, infra/) sit on top. A Lambda package holds skylane/ and its own
function only, so an import that breaks these rules is one that fails on Lambda."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIRST_PARTY = ("skylane", "skylane_cli", "functions", "infra", "bench", "tests")

# Code under each folder (most specific first) may import only these first-party packages.
ALLOWED: dict[str, tuple[str, ...]] = {
    "skylane": ("skylane",),
    "functions/tasks": ("skylane", "functions.tasks"),
    "functions/api": ("skylane", "functions.api"),
    "functions/scheduler": ("skylane", "functions.scheduler"),
    "functions/light": ("skylane", "functions.light", "functions.tasks"),
    "functions/worker": ("skylane", "functions.worker", "functions.tasks"),
    "skylane_cli": ("skylane", "skylane_cli", "infra"),
    "infra": ("skylane", "infra"),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, anywhere in it (lazy imports too), with its line."""
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def violations(folder: str) -> list[str]:
    allowed = ALLOWED[folder]
    others = [other for other in ALLOWED if other != folder and other.startswith(folder + "/")]
    wrong = []
    for path in sorted((REPO / folder).rglob("*.py")):
        if any(path.is_relative_to(REPO / other) for other in others):
            continue  # checked under its own, narrower rule
        for line, name in imported_modules(path):
            first_party = any(within(name, root) for root in FIRST_PARTY)
            if first_party and not any(within(name, ok) for ok in allowed):
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    return wrong


@pytest.mark.parametrize("folder", ALLOWED)
def test_code_imports_only_what_its_layer_may(folder: str) -> None:
    assert (REPO / folder).is_dir(), f"{folder} is gone: update the import rules"
    wrong = violations(folder)
    assert not wrong, f"{folder} may import only {', '.join(ALLOWED[folder])}:\n" + "\n".join(wrong)


def test_every_function_folder_has_a_rule() -> None:
    folders = {
        f"functions/{path.name}"
        for path in (REPO / "functions").iterdir()
        if (path / "__init__.py").is_file()
    }
    assert folders <= set(ALLOWED), f"no import rule for {sorted(folders - set(ALLOWED))}"
