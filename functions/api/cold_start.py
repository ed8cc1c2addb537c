"""The cold start's imports: without the garbage collector running through them, and without
the modules only a feature skylane does not use needs.

The imports build a few hundred thousand long-lived objects and no cyclic garbage, yet the
collector scans the growing heap again and again meanwhile. Paused for the imports, then those
objects are frozen (gc.freeze), so no later collection scans them (README: *Performance*).
"""

import gc
import importlib
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


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
    attribute asked for imports the real module, to which it then hands every lookup.
    """

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)  # probes such as __path__ load nothing
        with _FIRST_USE:
            real = self.__dict__.get("_real")
            if real is None:
                if sys.modules.get(self.__name__) is self:
                    del sys.modules[self.__name__]
                real = self.__dict__["_real"] = importlib.import_module(self.__name__)
        return getattr(real, attribute)


_FIRST_USE = threading.Lock()


def defer_import(name: str) -> None:
    """Import module ``name`` when one of its attributes is first used, not when it is imported.

    For a module something imports but rarely uses; one already imported is left alone.
    """
    sys.modules.setdefault(name, _ImportedOnFirstUse(name))
