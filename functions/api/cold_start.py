"""What a cold start need not do before its first request: run the garbage collector through the
imports, import modules only a feature skylane does not use needs, and build routes no request
has asked for yet.

The imports build a few hundred thousand long-lived objects and no cyclic garbage, yet the
collector scans the growing heap again and again meanwhile. Paused for the imports, then those
objects are frozen (gc.freeze), so no later collection scans them (README: *Performance*).
"""

import gc
import importlib
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match, get_name
from starlette.types import Scope


@contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


class _ImportedOnFirstUse(types.ModuleType):
    """Stands in for a module in sys.modules until one of its attributes is used.

    Its ``__spec__`` is None, so an import of the name finds it and stops there; the first
    attribute asked for or set imports the real module, to which it then hands every lookup
    and assignment (code that bound the stand-in keeps it).
    """

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)  # probes such as __path__ load nothing
        return getattr(self._load(), attribute)

    def __setattr__(self, attribute: str, value: Any) -> None:
        setattr(self._load(), attribute, value)

    def __delattr__(self, attribute: str) -> None:
        delattr(self._load(), attribute)

    def _load(self) -> types.ModuleType:
        real: types.ModuleType | None = self.__dict__.get("_real")
        if real is not None:  # loaded: no lock on every later lookup
            return real
        with _FIRST_USE:
            real = self.__dict__.get("_real")
            if real is None:
                if sys.modules.get(self.__name__) is self:
                    del sys.modules[self.__name__]
                real = self.__dict__["_real"] = importlib.import_module(self.__name__)
        return real


# Reentrant: loading one deferred module may load another (views imports upload_objects).
_FIRST_USE = threading.RLock()


def defer_import(name: str) -> None:
    """Import module ``name`` when one of its attributes is first used, not when it is imported.

    For a module something imports but rarely uses; one already imported is left alone. Its
    package is imported now and holds the stand-in, so ``package.module.name`` works too.
    """
    if name in sys.modules:
        return
    stand_in = sys.modules[name] = _ImportedOnFirstUse(name)
    package, _, module = name.rpartition(".")
    if package:
        setattr(importlib.import_module(package), module, stand_in)


def finish_deferred_work(app: FastAPI) -> None:
    """Everything a cold start leaves for first use, done now: every route of ``app`` built and
    every deferred module imported (before a SnapStart snapshot, so no restored environment pays
    for them)."""
    for route in app.routes:
        getattr(route, "endpoint", None)  # any attribute builds a RouteBuiltOnFirstUse
    for module in list(sys.modules.values()):  # loading adds modules
        if isinstance(module, _ImportedOnFirstUse):
            module._load()


class RouteBuiltOnFirstUse(APIRoute):
    """An APIRoute built when a request may match it, not when its function is declared.

    Building a route analyses its function's parameters and makes a validator for each: two
    thirds of the API's own import. Unbuilt, the route answers ``matches`` from its path's
    fixed part alone, so a cold request builds the one route it calls. Served by the app itself
    (``serve``); FastAPI's include_router would read and build every route of each router a
    request passes through, and then build its own copy of each. Every router of the API uses
    this class (``APIRouter(route_class=...)``, FastAPI's own extension point).
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        # What routing reads before it builds a route; every other attribute goes through
        # __getattr__, which builds it. path and name are what APIRoute sets them to.
        self.path = path
        self.name = options.get("name") or get_name(endpoint)
        self.__dict__["_fixed_part"] = path.split("{", 1)[0]
        self.__dict__["_declared"] = (path, endpoint, options)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # The request's path (its stage prefix included) cannot hold this route's fixed part:
        # no match, and nothing built.
        if "_declared" in self.__dict__ and self._fixed_part not in scope.get("path", ""):
            return Match.NONE, {}
        return super().matches(scope)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        # Under the lock even when built: the read that brought us here may have missed an
        # attribute another thread's build was about to set.
        with _ROUTE_BUILD:
            declared = self.__dict__.get("_declared")
            if declared is not None:
                if self.__dict__.get("_building"):
                    raise AttributeError(name)  # read by its own build before it is set
                self.__dict__["_building"] = True
                try:
                    path, endpoint, options = declared
                    APIRoute.__init__(self, path, endpoint, **options)
                finally:
                    del self.__dict__["_building"]
                del self.__dict__["_declared"]
        return object.__getattribute__(self, name)


_ROUTE_BUILD = threading.RLock()


def serve(app: FastAPI, router: APIRouter) -> None:
    """Serve ``router``'s routes from ``app`` itself, each unbuilt until a request may match it.

    For a router without a prefix (the router's tags, responses and the like are already in
    its routes): the routes then take the app's dependency overrides, as include_router gives.
    A route belongs to one app: serving it again, or once built, is refused.
    """
    for route in router.routes:
        declared = (
            route.__dict__.get("_declared") if isinstance(route, RouteBuiltOnFirstUse) else None
        )
        if declared is None or declared[2].get("dependency_overrides_provider") is not None:
            raise TypeError(
                f"{route!r}: serve takes unbuilt RouteBuiltOnFirstUse routes no app serves yet"
            )
        declared[2]["dependency_overrides_provider"] = app
        app.router.routes.append(route)
