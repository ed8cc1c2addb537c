"""Body models build on their route's first request (cold start, README *Performance*), and that
first request raises no warning into the function's logs, outside pytest's own filters too."""

import json
from typing import Any

from tests.unit.functions.api.fresh_python import run_fresh

PROBE = """
import importlib, json, pkgutil, re, warnings
from pydantic.warnings import UnsupportedFieldAttributeWarning
warnings.simplefilter("error", UnsupportedFieldAttributeWarning)
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from functions.api import routes
from functions.api.app import app
client = TestClient(app)
answers = {}
for module in pkgutil.iter_modules(routes.__path__):
    router = importlib.import_module(f"{routes.__name__}.{module.name}").router
    for route in router.routes:
        if not isinstance(route, APIRoute) or route.body_field is None:
            continue
        path = re.sub(r"{[^}]+}", "x", route.path)
        for method in route.methods:
            answer = client.request(method, path, json={"no_such": 1})
            answers[f"{method} {path}"] = answer.status_code
print(json.dumps(answers))
"""


def test_each_body_route_answers_its_first_request_without_a_warning(
    aws: dict[str, Any],
) -> None:
    answers = json.loads(run_fresh(aws, PROBE))
    assert "POST /send-email" in answers
    assert set(answers.values()) == {422}, answers
