"""Test doubles shared by the worker's unit tests."""

from collections.abc import Callable

Upload = Callable[[str, bytes], str]


class ProgressRecorder:
    """An OnProgress callback that keeps every (current, total) it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, current: int, total: int) -> None:
        self.calls.append((current, total))
