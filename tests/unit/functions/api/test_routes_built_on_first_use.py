"""The API's routes are built by the first request that may match them (cold start, README
*Performance*), and the app answers and describes itself exactly as with include_router."""

import sys
import threading
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from functions.api.cold_start import RouteBuiltOnFirstUse, serve
from tests.unit.functions.api.fresh_python import run_fresh

COUNT_BUILT = """
import json
from fastapi.testclient import TestClient
from functions.api.app import app
from functions.api.cold_start import RouteBuiltOnFirstUse

def built():
    return sorted(
        f"{sorted(r.methods)[0]} {r.path}"
        for r in app.routes
        if isinstance(r, RouteBuiltOnFirstUse) and "_declared" not in r.__dict__
    )

counts = {"import": built()}
client = TestClient(app)
client.get("/health")
counts["GET /health"] = built()
client.post("/send-email", json={"email": "not an address"})
counts["POST /send-email"] = built()
print(json.dumps(counts))
"""


def test_a_cold_request_builds_only_the_route_it_calls(aws: dict[str, Any]) -> None:
    assert run_fresh(aws, COUNT_BUILT) == (
        '{"import": [], "GET /health": ["GET /health"],'
        ' "POST /send-email": ["GET /health", "POST /send-email"]}'
    )


SCHEMAS = """
from functions.api import app as app_module
ours = app_module.app.openapi()
app_module.serve = lambda api, router: api.include_router(router)
print(ours == app_module.create_app().openapi(), len(ours["paths"]))
"""


def test_the_schema_is_the_one_include_router_gives(aws: dict[str, Any]) -> None:
    # In a fresh interpreter: the app's routes unbuilt until its own schema builds them.
    assert run_fresh(aws, SCHEMAS).split() == ["True", "22"]


def give(answer: str) -> str:
    return answer


def real_value() -> str:
    return "real"


def test_served_routes_take_the_apps_dependency_overrides() -> None:
    router = APIRouter(route_class=RouteBuiltOnFirstUse)

    @router.get("/answer")
    def answer(value: Annotated[str, Depends(real_value)]) -> dict[str, str]:
        return {"value": value}

    app = FastAPI()
    serve(app, router)
    app.dependency_overrides[real_value] = lambda: "overridden"
    assert TestClient(app).get("/answer").json() == {"value": "overridden"}


@pytest.fixture
def threads_switch_often() -> Iterator[None]:
    """Every microsecond: each build is interrupted many times by the other threads."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def test_threads_that_read_an_unbuilt_route_together_all_see_it_built(
    threads_switch_often: None,
) -> None:
    def endpoint(item_id: int, q: str | None = None) -> dict[str, Any]:
        return {}

    for _ in range(20):
        route = RouteBuiltOnFirstUse("/items/{item_id}", endpoint, methods=["GET"])
        seen: list[object] = []
        start = threading.Barrier(8)

        def read(
            route: RouteBuiltOnFirstUse = route,
            start: threading.Barrier = start,
            seen: list[object] = seen,
        ) -> None:
            start.wait()
            seen.append(route.dependant)

        threads = [threading.Thread(target=read) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(seen) == 8
        assert all(dependant is seen[0] for dependant in seen)


def test_a_route_serves_one_app() -> None:
    router = APIRouter(route_class=RouteBuiltOnFirstUse)
    router.add_api_route("/answer", give)
    serve(FastAPI(), router)
    # A second app would share the route, and the first app's dependency overrides with it.
    with pytest.raises(TypeError, match="no app serves yet"):
        serve(FastAPI(), router)


def test_a_router_of_plain_routes_is_refused() -> None:
    router = APIRouter()
    router.add_api_route("/plain", give)
    with pytest.raises(TypeError, match="unbuilt RouteBuiltOnFirstUse"):
        serve(FastAPI(), router)
