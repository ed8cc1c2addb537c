"""The API handler's imports run with the garbage collector paused, and end with it running;
modules only an unused feature needs are imported on first use."""

import builtins
import gc
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.api.cold_start import collector_paused, defer_import
from functions.api.handler import ROUTE_HELPERS
from tests.unit.functions.api.fresh_python import run_fresh


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


MakePackage = Callable[[str, dict[str, str]], None]


@pytest.fixture
def make_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakePackage:
    """Writes a package of the given modules' sources, importable and not imported yet."""

    def make(name: str, modules: dict[str, str]) -> None:
        package = tmp_path / name
        package.mkdir()
        (package / "__init__.py").write_text("")
        for module, source in modules.items():
            (package / f"{module}.py").write_text(source)
        for loaded in (name, *(f"{name}.{module}" for module in modules)):
            monkeypatch.delitem(sys.modules, loaded, raising=False)

    monkeypatch.syspath_prepend(str(tmp_path))
    return make


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


@pytest.mark.parametrize(
    "module",
    [
        # boto3 is imported on first use (skylane/core/aws.py, skylane/core/dynamodb_items.py),
        # so a cold start that makes no AWS call (/health) never pays for it.
        "boto3",
        # The schedules modules, on the first schedule or cancel request.
        "skylane.schedules.runs",
        "skylane.schedules.invocations",
        # What only some routes use (functions/api/handler.py's ROUTE_HELPERS).
        *ROUTE_HELPERS,
        # Through job_logs, for a job's detail.
        "skylane.observability.log_search",
    ],
)
def test_the_handlers_import_leaves_a_module_for_its_first_use(
    aws: dict[str, Any], module: str
) -> None:
    loaded = run_fresh(
        aws,
        "import sys, functions.api.handler\n"
        f"found = sys.modules.get({module!r})\n"
        "print(found is not None and type(found).__name__ != '_ImportedOnFirstUse')",
    )
    assert loaded == "False"


def test_a_deferred_module_is_imported_on_first_use(
    make_package: MakePackage, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_package("deferred_pkg", {"helpers": "LOADS.append(1)\nANSWER = 42\n"})
    loads: list[int] = []
    monkeypatch.setattr(builtins, "LOADS", loads, raising=False)

    defer_import("deferred_pkg.helpers")
    import deferred_pkg.helpers  # noqa: F401
    from deferred_pkg import helpers

    assert loads == []  # imported twice, used never: not loaded
    assert helpers.ANSWER == 42
    assert loads == [1]
    assert helpers.ANSWER == 42
    assert loads == [1]  # loaded once
    # As `import deferred_pkg.helpers` then `deferred_pkg.helpers.ANSWER` reads it.
    assert sys.modules["deferred_pkg"].helpers.ANSWER == 42


def test_what_is_set_on_a_deferred_module_is_set_on_the_real_one(
    make_package: MakePackage,
) -> None:
    # As monkeypatch does in tests, through a name bound before the module was loaded.
    make_package("patched_pkg", {"limits": "BUDGET = 2000\n\ndef budget():\n    return BUDGET\n"})

    defer_import("patched_pkg.limits")
    from patched_pkg import limits

    limits.BUDGET = 20
    assert limits.budget() == 20
    assert sys.modules["patched_pkg.limits"].BUDGET == 20


def test_the_handlers_import_leaves_jmespath_until_a_correlation_id_needs_it(
    aws: dict[str, Any],
) -> None:
    # Powertools' Logger imports its JMESPath helpers for correlation_id_path, which skylane
    # does not use; a handler that does gets them on first use.
    code = (
        "import sys, functions.api.handler\n"
        "from aws_lambda_powertools.utilities import jmespath_utils\n"
        "before = 'jmespath' in sys.modules\n"
        "found = jmespath_utils.query(envelope='headers.id', data={'headers': {'id': 'x'}})\n"
        "print(before, found, 'jmespath' in sys.modules)\n"
    )
    assert run_fresh(aws, code).split() == ["False", "x", "True"]


def test_a_deferred_module_may_load_another_as_it_loads(make_package: MakePackage) -> None:
    make_package(
        "chained_pkg",
        {"views": "from chained_pkg.links import LINK\nVIEW = LINK + 1\n", "links": "LINK = 41\n"},
    )
    defer_import("chained_pkg.views")
    defer_import("chained_pkg.links")
    from chained_pkg import views

    found: list[int] = []
    # In a thread: a load that waited on itself would never end.
    loader = threading.Thread(target=lambda: found.append(views.VIEW), daemon=True)
    loader.start()
    loader.join(timeout=30)
    assert found == [42]
