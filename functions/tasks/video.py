"""process_video's work: size, checksum, container and (for MP4/QuickTime) duration, in one pass."""

import hashlib
import struct
from collections.abc import Iterator
from typing import TypedDict

from functions.tasks.s3io import OnProgress, open_object

# 60 progress steps, each a real slice of the file.
VIDEO_STEPS = 60
HEAD_BYTES = 64
# moov holds the sample tables (a few MB for hours of video); a larger one is not worth
# buffering just to learn a duration.
MAX_MOOV_BYTES = 64 * 1024 * 1024

EBML_MAGIC = b"\x1a\x45\xdf\xa3"
EBML_DOCTYPE_ID = b"\x42\x82"
ISO_BMFF_CONTAINERS = frozenset({"mp4", "quicktime"})
# A box whose 32-bit size is 1 carries its real size in the next 8 bytes.
LARGE_SIZE = b"\x00\x00\x00\x01"
# mvhd after version and flags: creation and modification times, timescale, duration.
_MVHD_V0 = struct.Struct(">4xIIII")
_MVHD_V1 = struct.Struct(">4xQQIQ")


class VideoFacts(TypedDict):
    size_bytes: int
    sha256: str
    container: str | None
    duration_seconds: float | None


def analyse_video(bucket: str, key: str, on_progress: OnProgress) -> VideoFacts:
    digest = hashlib.sha256()
    head = bytearray()
    finder = MovieBoxFinder()
    size = 0
    with open_object(bucket, key) as upload:
        for step in range(1, VIDEO_STEPS + 1):
            # Step boundaries cut the object into equal parts whatever its size, so the
            # job always shows the same number of steps.
            data = upload.read(upload.size * step // VIDEO_STEPS - size)
            digest.update(data)
            size += len(data)
            head += data[: HEAD_BYTES - len(head)]
            finder.feed(data)
            on_progress(step, VIDEO_STEPS)
    container = detect_container(bytes(head))
    moov = finder.movie_box()
    duration = (
        movie_duration(moov) if container in ISO_BMFF_CONTAINERS and moov is not None else None
    )
    return VideoFacts(
        size_bytes=size,
        sha256=digest.hexdigest(),
        container=container,
        duration_seconds=duration,
    )


def detect_container(head: bytes) -> str | None:
    if head[4:8] == b"ftyp":
        return "quicktime" if head[8:12] == b"qt  " else "mp4"
    if head.startswith(EBML_MAGIC):
        return "webm" if _ebml_doctype(head) == b"webm" else "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    return None


def _ebml_doctype(head: bytes) -> bytes | None:
    start = head.find(EBML_DOCTYPE_ID)
    if start < 0 or start + 2 >= len(head):
        return None
    length_byte = head[start + 2]
    # Muxers write the DocType's size as a one-byte EBML varint (marker bit 0x80).
    if not length_byte & 0x80:
        return None
    value_start = start + 3
    return head[value_start : value_start + (length_byte & 0x7F)]


class MovieBoxFinder:
    """Walks an MP4's top-level boxes as the bytes stream past, keeping only the moov box.

    moov may come before or after the media data (it is at the end unless the file was
    prepared for streaming), and the media data is never held in memory.
    """

    def __init__(self) -> None:
        self._header = bytearray()
        self._skip = 0
        self._moov: bytearray | None = None
        # Bytes of moov still to come; None while inside a moov that runs to the end of file.
        self._moov_left: int | None = None
        self._done = False

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._done:
            if self._skip:
                taken = min(self._skip, len(view))
                self._skip -= taken
                view = view[taken:]
            elif self._moov is not None:
                view = self._capture(self._moov, view)
            else:
                view = self._read_header(view)

    def movie_box(self) -> bytes | None:
        """moov's payload, once the whole file was fed; None if it has none within limits."""
        if self._moov is None or self._moov_left:
            return None
        return bytes(self._moov)

    def _capture(self, moov: bytearray, view: memoryview) -> memoryview:
        taken = len(view) if self._moov_left is None else min(self._moov_left, len(view))
        moov += view[:taken]
        if self._moov_left is not None:
            self._moov_left -= taken
            self._done = self._moov_left == 0
        elif len(moov) > MAX_MOOV_BYTES:
            self._give_up()
        return view[taken:]

    def _read_header(self, view: memoryview) -> memoryview:
        taken = min(self._header_length() - len(self._header), len(view))
        self._header += view[:taken]
        view = view[taken:]
        header_length = self._header_length()
        if len(self._header) < header_length:
            return view
        kind = bytes(self._header[4:8])
        size = int.from_bytes(self._header[8:16] if header_length == 16 else self._header[:4])
        self._header.clear()
        if size == 0:
            payload = None
        elif size < header_length:
            self._give_up()
            return view
        else:
            payload = size - header_length
        if kind == b"moov":
            if payload is not None and payload > MAX_MOOV_BYTES:
                self._give_up()
            else:
                self._moov = bytearray()
                self._moov_left = payload
        elif payload is None:
            self._done = True
        else:
            self._skip = payload
        return view

    def _header_length(self) -> int:
        return 16 if self._header[:4] == LARGE_SIZE else 8

    def _give_up(self) -> None:
        self._moov = None
        self._done = True


def movie_duration(moov: bytes) -> float | None:
    """Seconds from moov's mvhd box; None when it is missing, damaged or says 'unknown'."""
    for kind, payload in iter_boxes(moov):
        if kind == b"mvhd":
            return _mvhd_duration(payload)
    return None


def iter_boxes(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        header = 8
        if size == 1:
            if offset + 16 > len(data):
                return
            size = int.from_bytes(data[offset + 8 : offset + 16])
            header = 16
        elif size == 0:
            size = len(data) - offset
        if size < header or offset + size > len(data):
            return
        yield kind, data[offset + header : offset + size]
        offset += size


def _mvhd_duration(payload: bytes) -> float | None:
    version = payload[0] if payload else None
    # A duration of all ones is ISO BMFF's "could not be determined".
    if version == 0:
        layout, unknown = _MVHD_V0, 0xFFFF_FFFF
    elif version == 1:
        layout, unknown = _MVHD_V1, 0xFFFF_FFFF_FFFF_FFFF
    else:
        return None
    if len(payload) < layout.size:
        return None
    fields: tuple[int, int, int, int] = layout.unpack_from(payload)
    _, _, timescale, duration = fields
    if timescale == 0 or duration == unknown:
        return None
    return round(duration / timescale, 3)
