"""The cold start's imports, without the garbage collector running through them.

The imports build a few hundred thousand long-lived objects and no cyclic garbage, yet the
collector scans the growing heap again and again meanwhile. Paused for the imports, then those
objects are frozen (gc.freeze), so no later collection scans them (README: *Performance*).
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
