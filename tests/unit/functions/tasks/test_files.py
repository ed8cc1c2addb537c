import hashlib

import pytest

from functions.tasks.files import LineCounter, analyse_file
from functions.tasks.s3io import CHUNK_SIZE, ObjectMissing
from tests.unit.functions.tasks.helpers import ProgressRecorder, Upload


def test_multi_chunk_file_facts_match_the_bytes(
    upload: Upload, progress: ProgressRecorder, worker_aws: dict[str, str]
) -> None:
    content = b"".join(f"line {n}: {'x' * (n % 50)}\n".encode() for n in range(600))
    key = upload("uploads/big.txt", content)

    facts = analyse_file(worker_aws["UPLOADS_BUCKET"], key, progress, chunk_size=4096)

    chunks = -(-len(content) // 4096)
    assert chunks > 2
    assert facts == {
        "size_bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "lines": 600,
        "chunks": chunks,
    }
    assert progress.calls == [(step, chunks) for step in range(1, chunks + 1)]


def test_default_chunk_size_reads_megabyte_chunks(
    upload: Upload, progress: ProgressRecorder, worker_aws: dict[str, str]
) -> None:
    content = bytes(range(256)) * (CHUNK_SIZE * 5 // 2 // 256)
    key = upload("uploads/binary.bin", content)

    facts = analyse_file(worker_aws["UPLOADS_BUCKET"], key, progress)

    assert facts["chunks"] == 3
    assert facts["sha256"] == hashlib.sha256(content).hexdigest()
    assert progress.calls[-1] == (3, 3)


def test_empty_file_is_one_chunk_with_no_lines(
    upload: Upload, progress: ProgressRecorder, worker_aws: dict[str, str]
) -> None:
    key = upload("uploads/empty.txt", b"")

    facts = analyse_file(worker_aws["UPLOADS_BUCKET"], key, progress)

    assert facts == {
        "size_bytes": 0,
        "sha256": hashlib.sha256(b"").hexdigest(),
        "lines": 0,
        "chunks": 1,
    }
    assert progress.calls == [(1, 1)]


def test_missing_object_names_what_is_missing(
    progress: ProgressRecorder, worker_aws: dict[str, str]
) -> None:
    bucket = worker_aws["UPLOADS_BUCKET"]
    with pytest.raises(ObjectMissing, match=f"s3://{bucket}/uploads/nope.txt does not exist"):
        analyse_file(bucket, "uploads/nope.txt", progress)
    assert progress.calls == []


@pytest.mark.parametrize(
    ("pieces", "lines"),
    [
        ([b""], 0),
        ([b"one line\n"], 1),
        ([b"no newline"], 1),
        ([b"a\nb"], 2),
        ([b"a\n", b"b\n", b""], 2),
        ([b"split li", b"ne\nlast"], 2),
        ([b"\n\n\n"], 3),
    ],
)
def test_line_counter_counts_like_wc_plus_an_unterminated_last_line(
    pieces: list[bytes], lines: int
) -> None:
    counter = LineCounter()
    for piece in pieces:
        counter.feed(piece)
    assert counter.lines == lines
