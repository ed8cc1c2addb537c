"""The Lambda packages leave out celery's shell dependencies (Makefile CELERY_SHELL_ONLY):
click-repl, prompt-toolkit and wcwidth, 5 MB. That is only safe while no function's code path
imports them, which this checks in a fresh interpreter."""

import json
from typing import Any

from tests.unit.functions.api.fresh_python import run_fresh

# What the functions load at import, and what sending and running a task loads later.
FUNCTION_CODE_PATHS = (
    "functions.api.handler",
    "functions.scheduler.handler",
    "functions.light.handler",
    "celery.app.amqp",
    "celery.app.trace",
    "celery.worker.request",
    "kombu.transport.SQS",
    "skylane.broker.transport",
)
LEFT_OUT = ("click_repl", "prompt_toolkit", "wcwidth")

PROBE = f"""
import importlib, json, sys
for name in {FUNCTION_CODE_PATHS!r}:
    importlib.import_module(name)
from skylane.broker.celery_app import get_celery_app
get_celery_app().loader.import_default_modules()
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})))
"""


def test_no_function_imports_what_its_package_leaves_out(aws: dict[str, Any]) -> None:
    # The functions' settings, as the template gives them; nothing here reaches AWS.
    loaded = set(json.loads(run_fresh(aws, PROBE)))
    assert "celery" in loaded
    assert "fastapi" in loaded
    assert loaded.isdisjoint(LEFT_OUT), sorted(loaded & set(LEFT_OUT))
