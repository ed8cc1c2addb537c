"""process_document's work: page count and text of a PDF, or counts of a text document."""

import codecs
import hashlib
import tempfile
from typing import IO, Literal, TypedDict

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from functions.tasks.files import LineCounter
from functions.tasks.s3io import CHUNK_SIZE, OnProgress, chunk_count, open_object
from functions.tasks.scratch import scratch_dir

PDF_MAGIC = b"%PDF-"
EXCERPT_CHARS = 1000
# Documents up to this size are parsed in memory; larger ones spill to the scratch directory.
SPOOL_MEMORY_BYTES = 8 * 1024 * 1024

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
    client never sees the job complete before it is. The document is spooled, not held in
    memory: a PDF needs random access, and only its first SPOOL_MEMORY_BYTES stay in memory.
    """
    digest = hashlib.sha256()
    with (
        open_object(bucket, key) as upload,
        tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES, dir=str(scratch_dir())) as spool,
    ):
        chunks = chunk_count(upload.size)
        for step in range(1, chunks + 1):
            data = upload.read(CHUNK_SIZE)
            digest.update(data)
            spool.write(data)
            on_progress(step, chunks + 1)
        size = spool.tell()
        spool.seek(0)
        is_pdf = spool.read(len(PDF_MAGIC)) == PDF_MAGIC
        spool.seek(0)
        if is_pdf:
            return _pdf_facts(
                key,
                spool,
                size,
                digest.hexdigest(),
                lambda page, pages: on_progress(chunks + page, chunks + pages),
            )
        facts = _text_facts(spool, size, digest.hexdigest())
    on_progress(chunks + 1, chunks + 1)
    return facts


def _pdf_facts(
    key: str, content: IO[bytes], size: int, sha256: str, on_page: OnProgress
) -> PdfFacts:
    words = 0
    excerpt = ""
    try:
        reader = PdfReader(content)
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
        size_bytes=size,
        sha256=sha256,
        page_count=pages,
        words=words,
        text_excerpt=excerpt,
    )


def _text_facts(content: IO[bytes], size: int, sha256: str) -> TextFacts:
    """Counts in chunks: a word split across two chunks is counted once."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    lines = LineCounter()
    words = characters = 0
    in_word = False
    while True:
        data = content.read(CHUNK_SIZE)
        lines.feed(data)
        text = decoder.decode(data, final=not data)
        if text:
            words += len(text.split()) - int(in_word and not text[0].isspace())
            characters += len(text)
            in_word = not text[-1].isspace()
        if not data:
            break
    return TextFacts(
        format="text",
        size_bytes=size,
        sha256=sha256,
        lines=lines.lines,
        words=words,
        characters=characters,
    )
