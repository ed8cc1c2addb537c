"""Test helper: the JSON lines skylane's logger writes, and the EMF lines on the real stdout."""

import io
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from skylane.observability.logs import logger


@dataclass
class Captured:
    logs: io.StringIO = field(default_factory=io.StringIO)
    stdout: io.StringIO = field(default_factory=io.StringIO)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.logs.getvalue().splitlines() if line]

    def metrics(self) -> list[dict[str, Any]]:
        found = []
        for line in self.stdout.getvalue().splitlines():
            document = json.loads(line)
            if "_aws" in document:
                found.append(document)
        return found


@contextmanager
def capture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Captured]:
    """Every skylane (and Celery) log line as parsed JSON, and what went to sys.__stdout__."""
    captured = Captured()
    handler = logging.StreamHandler(captured.logs)
    handler.setFormatter(logger.registered_formatter)
    celery = logging.getLogger("celery")
    targets = [logging.getLogger(logger.name), celery]
    for target in targets:
        target.addHandler(handler)
    # As the worker runs it (--loglevel INFO): Celery's tracer logs "succeeded" only then.
    celery_level = celery.level
    celery.setLevel(logging.INFO)
    monkeypatch.setattr(sys, "__stdout__", captured.stdout)
    try:
        yield captured
    finally:
        celery.setLevel(celery_level)
        for target in targets:
            target.removeHandler(handler)
