"""process_large_file's work: facts about an upload, computed in one streaming pass."""

import hashlib
from typing import TypedDict

from functions.tasks.s3io import CHUNK_SIZE, OnProgress, chunk_count, open_object


class FileFacts(TypedDict):
    size_bytes: int
    sha256: str
    lines: int
    chunks: int


class LineCounter:
    """Counts lines as `wc -l` would, plus a last line that lacks its newline."""

    def __init__(self) -> None:
        self.newlines = 0
        self._last_byte = b""

    def feed(self, data: bytes) -> None:
        if data:
            self.newlines += data.count(b"\n")
            self._last_byte = data[-1:]

    @property
    def lines(self) -> int:
        unterminated = self._last_byte not in (b"", b"\n")
        return self.newlines + int(unterminated)


def analyse_file(
    bucket: str, key: str, on_progress: OnProgress, chunk_size: int = CHUNK_SIZE
) -> FileFacts:
    digest = hashlib.sha256()
    counter = LineCounter()
    size = 0
    with open_object(bucket, key) as upload:
        chunks = chunk_count(upload.size, chunk_size)
        for step in range(1, chunks + 1):
            data = upload.read(chunk_size)
            digest.update(data)
            size += len(data)
            counter.feed(data)
            on_progress(step, chunks)
    return FileFacts(size_bytes=size, sha256=digest.hexdigest(), lines=counter.lines, chunks=chunks)
