"""process_document's work: page count and text of a PDF, or counts of a text document."""

import hashlib
import io
from typing import Literal, TypedDict

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from functions.worker.files import LineCounter
from functions.worker.s3io import CHUNK_SIZE, OnProgress, chunk_count, open_object

PDF_MAGIC = b"%PDF-"
EXCERPT_CHARS = 1000

# pypdf raises its own errors for most damage but plain Python errors for some malformed
# structures. Naming them, rather than catching Exception, keeps Celery's
# SoftTimeLimitExceeded from being reported as an unreadable document.
_PDF_PARSE_ERRORS = (
    PyPdfError,
    ValueError,
    LookupError,
    TypeError,
    AttributeError,
    AssertionError,
    RecursionError,
)


class DocumentUnreadable(Exception):
    """The document cannot be parsed: the same bytes will fail the same way on a retry."""


class PdfFacts(TypedDict):
    format: Literal["pdf"]
    size_bytes: int
    sha256: str
    page_count: int
    words: int
    text_excerpt: str


class TextFacts(TypedDict):
    format: Literal["text"]
    size_bytes: int
    sha256: str
    lines: int
    words: int
    characters: int


def analyse_document(bucket: str, key: str, on_progress: OnProgress) -> PdfFacts | TextFacts:
    """Progress counts the chunks read, then the pages parsed.

    Until the page count is known the total holds one step in reserve for parsing, so a
    client never sees the job complete before it is.
    """
    with open_object(bucket, key) as upload:
        chunks = chunk_count(upload.size)
        parts: list[bytes] = []
        for step in range(1, chunks + 1):
            parts.append(upload.read(CHUNK_SIZE))
            on_progress(step, chunks + 1)
    content = b"".join(parts)
    if content.startswith(PDF_MAGIC):
        return _pdf_facts(
            key, content, lambda page, pages: on_progress(chunks + page, chunks + pages)
        )
    on_progress(chunks + 1, chunks + 1)
    return _text_facts(content)


def _pdf_facts(key: str, content: bytes, on_page: OnProgress) -> PdfFacts:
    words = 0
    excerpt = ""
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentUnreadable(f"{key} is an encrypted PDF that needs a password")
        pages = len(reader.pages)
        for number, page in enumerate(reader.pages, start=1):
            page_words = page.extract_text().split()
            words += len(page_words)
            if len(excerpt) < EXCERPT_CHARS and page_words:
                excerpt = f"{excerpt} {' '.join(page_words)}".strip()[:EXCERPT_CHARS]
            on_page(number, pages)
    except _PDF_PARSE_ERRORS as exc:
        raise DocumentUnreadable(f"{key} is not a readable PDF: {exc}") from exc
    if pages == 0:
        on_page(1, 1)
    return PdfFacts(
        format="pdf",
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        page_count=pages,
        words=words,
        text_excerpt=excerpt,
    )


def _text_facts(content: bytes) -> TextFacts:
    text = content.decode("utf-8", errors="replace")
    counter = LineCounter()
    counter.feed(content)
    return TextFacts(
        format="text",
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        lines=counter.lines,
        words=len(text.split()),
        characters=len(text),
    )
