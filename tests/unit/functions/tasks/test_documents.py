import hashlib
import tempfile
from pathlib import Path
from typing import Any

import pytest

from functions.tasks import documents
from functions.tasks.documents import (
    EXCERPT_CHARS,
    SPOOL_MEMORY_BYTES,
    DocumentUnreadable,
    analyse_document,
)
from functions.tasks.s3io import CHUNK_SIZE
from skylane.core.settings import get_settings
from tests.samples import pdf_bytes
from tests.unit.functions.tasks.helpers import ProgressRecorder, Upload


def assert_progress_completes_only_at_the_end(calls: list[tuple[int, int]]) -> None:
    currents = [current for current, _ in calls]
    assert currents == sorted(currents)
    assert all(current < total for current, total in calls[:-1])
    assert calls[-1][0] == calls[-1][1]


def test_blank_pdf_pages_are_counted(
    upload: Upload, progress: ProgressRecorder, worker_aws: dict[str, str]
) -> None:
    content = pdf_bytes(["", "", ""])
    key = upload("uploads/blank.pdf", content)

    facts = analyse_document(worker_aws["UPLOADS_BUCKET"], key, progress)

    assert facts == {
        "format": "pdf",
        "size_bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "page_count": 3,
        "words": 0,
        "text_excerpt": "",
    }
    # One chunk read, then three pages parsed.
    assert progress.calls == [(1, 2), (2, 4), (3, 4), (4, 4)]


def test_pdf_text_is_extracted_across_pages(
    upload: Upload, progress: ProgressRecorder, worker_aws: dict[str, str]
) -> None:
    key = upload("uploads/text.pdf", pdf_bytes(["Hello skylane world", "", "second page text"]))

    facts = analyse_document(worker_aws["UPLOADS_BUCKET"], key, progress)

    assert facts["format"] == "pdf"
    assert facts["page_count"] == 3
    assert facts["words"] == 6
    assert facts["text_excerpt"] == "Hello skylane world second page text"
    assert_progress_completes_only_at_the_end(progress.calls)


def test_pdf_excerpt_is_capped(
    upload: Upload, progress: ProgressRecorder, worker_aws: dict[str, str]
) -> None:
    page_text = " ".join(["lorem"] * 60)
    key = upload("uploads/long.pdf", pdf_bytes([page_text] * 10))

    facts = analyse_document(worker_aws["UPLOADS_BUCKET"], key, progress)

    assert facts["format"] == "pdf"
    assert facts["words"] == 600
    assert len(facts["text_excerpt"]) == EXCERPT_CHARS
    assert facts["text_excerpt"].startswith("lorem lorem")


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\nthis is not a pdf at all",
        b"%PDF-",
        pdf_bytes(["Hello skylane world"])[:200],
    ],
    ids=["garbage", "magic-only", "truncated"],
)
def test_corrupt_pdf_is_a_clear_permanent_failure(
    content: bytes, upload: Upload, progress: ProgressRecorder, worker_aws: dict[str, str]
) -> None:
    key = upload("uploads/broken.pdf", content)

    with pytest.raises(DocumentUnreadable, match=r"uploads/broken\.pdf is not a readable PDF: "):
        analyse_document(worker_aws["UPLOADS_BUCKET"], key, progress)


def test_password_protected_pdf_is_unreadable(
    upload: Upload, progress: ProgressRecorder, worker_aws: dict[str, str]
) -> None:
    key = upload("uploads/secret.pdf", pdf_bytes(["classified"], password="hunter2"))

    with pytest.raises(DocumentUnreadable, match="encrypted PDF that needs a password"):
        analyse_document(worker_aws["UPLOADS_BUCKET"], key, progress)


def test_text_document_counts_lines_words_and_characters(
    upload: Upload, progress: ProgressRecorder, worker_aws: dict[str, str]
) -> None:
    content = "héllo wörld\nsecond line here\n".encode() + b"bad \xff byte"
    key = upload("uploads/notes.txt", content)

    facts = analyse_document(worker_aws["UPLOADS_BUCKET"], key, progress)

    assert facts == {
        "format": "text",
        "size_bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "lines": 3,
        "words": 8,
        # The undecodable byte becomes one U+FFFD replacement character.
        "characters": len("héllo wörld\nsecond line here\nbad \ufffd byte"),
    }
    assert progress.calls == [(1, 2), (2, 2)]


def test_text_counts_hold_across_read_chunks(
    upload: Upload, progress: ProgressRecorder, worker_aws: dict[str, str]
) -> None:
    # A word, and the two bytes of its "é", straddle the first 1 MiB chunk's end.
    content = b"a" * (CHUNK_SIZE - 1) + "ébc de\nlast".encode()
    key = upload("uploads/big.txt", content)

    facts = analyse_document(worker_aws["UPLOADS_BUCKET"], key, progress)

    text = content.decode()
    assert (facts["format"], facts["size_bytes"]) == ("text", len(content))
    assert facts["sha256"] == hashlib.sha256(content).hexdigest()
    assert (facts["lines"], facts["words"], facts["characters"]) == (2, 3, len(text))
    assert progress.calls == [(1, 3), (2, 3), (3, 3)]


def test_documents_are_spooled_in_the_scratch_dir(
    upload: Upload,
    progress: ProgressRecorder,
    worker_aws: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    scratch = tmp_path / "not-yet-created"
    monkeypatch.setenv("SCRATCH_DIR", str(scratch))
    get_settings.cache_clear()
    spools: list[dict[str, object]] = []
    spooled_file = tempfile.SpooledTemporaryFile

    key = upload("uploads/doc.pdf", pdf_bytes(["spooled text"]))

    # tempfile is one module for everyone: moto's S3 buffers come through here as well.
    def recording_spool(*args: Any, **options: Any) -> Any:
        if "dir" in options:
            spools.append(options)
        return spooled_file(*args, **options)

    monkeypatch.setattr(documents.tempfile, "SpooledTemporaryFile", recording_spool)

    facts = analyse_document(worker_aws["UPLOADS_BUCKET"], key, progress)

    assert facts["words"] == 2
    assert spools == [{"max_size": SPOOL_MEMORY_BYTES, "dir": str(scratch)}]
    assert scratch.is_dir()
