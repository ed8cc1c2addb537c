import hashlib
import struct

import pytest

from functions.tasks.video import (
    VIDEO_STEPS,
    MovieBoxFinder,
    analyse_video,
    detect_container,
    movie_duration,
)
from tests.samples import box, ftyp, mp4, mvhd
from tests.unit.functions.tasks.helpers import ProgressRecorder, Upload


def test_mp4_with_moov_at_the_end(
    upload: Upload, progress: ProgressRecorder, worker_aws: dict[str, str]
) -> None:
    content = mp4(timescale=1000, duration=12_345)
    key = upload("uploads/clip.mp4", content)

    facts = analyse_video(worker_aws["UPLOADS_BUCKET"], key, progress)

    assert facts == {
        "size_bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "container": "mp4",
        "duration_seconds": 12.345,
    }
    assert progress.calls == [(step, VIDEO_STEPS) for step in range(1, VIDEO_STEPS + 1)]


def test_mp4_with_version_1_header_and_moov_first(
    upload: Upload, progress: ProgressRecorder, worker_aws: dict[str, str]
) -> None:
    # A duration beyond 32 bits is what version 1 exists for.
    key = upload(
        "uploads/long.mp4",
        mp4(timescale=90_000, duration=90_000 * 50_000, version=1, moov_first=True),
    )

    facts = analyse_video(worker_aws["UPLOADS_BUCKET"], key, progress)

    assert facts["container"] == "mp4"
    assert facts["duration_seconds"] == 50_000.0


def test_tiny_file_still_reports_every_step(
    upload: Upload, progress: ProgressRecorder, worker_aws: dict[str, str]
) -> None:
    key = upload("uploads/tiny.bin", b"0123456789")

    facts = analyse_video(worker_aws["UPLOADS_BUCKET"], key, progress)

    assert facts == {
        "size_bytes": 10,
        "sha256": hashlib.sha256(b"0123456789").hexdigest(),
        "container": None,
        "duration_seconds": None,
    }
    assert len(progress.calls) == VIDEO_STEPS
    assert progress.calls[-1] == (VIDEO_STEPS, VIDEO_STEPS)


def test_finder_does_not_depend_on_how_the_stream_is_cut() -> None:
    content = mp4(timescale=600, duration=1_500)
    whole = MovieBoxFinder()
    whole.feed(content)
    bytewise = MovieBoxFinder()
    for offset in range(len(content)):
        bytewise.feed(content[offset : offset + 1])

    moov = whole.movie_box()
    assert moov is not None
    assert bytewise.movie_box() == moov
    assert movie_duration(moov) == 2.5


def test_moov_running_to_the_end_of_file_is_found() -> None:
    finder = MovieBoxFinder()
    # Size 0: "this box extends to the end of the file".
    finder.feed(ftyp() + struct.pack(">I", 0) + b"moov" + mvhd(1000, 4_000))

    moov = finder.movie_box()
    assert moov is not None
    assert movie_duration(moov) == 4.0


def test_truncated_moov_gives_no_duration() -> None:
    finder = MovieBoxFinder()
    finder.feed(ftyp() + box(b"moov", mvhd(1000, 4_000))[:-10])
    assert finder.movie_box() is None


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (mvhd(0, 100), None),
        (mvhd(1000, 0xFFFF_FFFF), None),
        (mvhd(1000, 0xFFFF_FFFF_FFFF_FFFF, version=1), None),
        (mvhd(1000, 1_000)[:20], None),
        (box(b"mvhd", bytes([7, 0, 0, 0]) + bytes(96)), None),
        (box(b"trak", b""), None),
        (mvhd(44_100, 441_000), 10.0),
    ],
    ids=["no-timescale", "unknown-v0", "unknown-v1", "truncated", "bad-version", "no-mvhd", "ok"],
)
def test_movie_duration(header: bytes, seconds: float | None) -> None:
    assert movie_duration(header) == seconds


@pytest.mark.parametrize(
    ("head", "container"),
    [
        (ftyp(b"isom"), "mp4"),
        (ftyp(b"qt  "), "quicktime"),
        (bytes.fromhex("1a45dfa3") + b"\x9f\x42\x86\x81\x01\x42\x82\x84webm\x42\x87", "webm"),
        (bytes.fromhex("1a45dfa3") + b"\x9f\x42\x82\x88matroska\x42\x87", "matroska"),
        (b"RIFF\x24\x00\x01\x00AVI LIST", "avi"),
        (b"RIFF\x24\x00\x01\x00WAVEfmt ", None),
        (b"%PDF-1.7", None),
        (b"", None),
    ],
)
def test_detect_container(head: bytes, container: str | None) -> None:
    assert detect_container(head) == container
