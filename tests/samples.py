"""Real sample inputs built in code: a PDF with text, an MP4 with a known duration, a PDF
slow to read."""

import io
import math
import struct
import time

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, NameObject


def pdf_bytes(page_texts: list[str], password: str | None = None) -> bytes:
    """A real PDF: one page per text (empty text: a blank page), in Helvetica."""
    writer = PdfWriter()
    for text in page_texts:
        page = writer.add_blank_page(width=612, height=792)
        if text:
            font = DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Font"),
                    NameObject("/Subtype"): NameObject("/Type1"),
                    NameObject("/BaseFont"): NameObject("/Helvetica"),
                }
            )
            page[NameObject("/Resources")] = DictionaryObject(
                {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
            )
            content = ContentStream(None, writer)
            content.set_data(f"BT /F1 10 Tf 20 700 Td ({text}) Tj ET".encode())
            page.replace_contents(content)
    if password:
        writer.encrypt(password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def large_box(kind: bytes, payload: bytes) -> bytes:
    """A box with the 64-bit size form (32-bit size field = 1)."""
    return struct.pack(">I", 1) + kind + struct.pack(">Q", 16 + len(payload)) + payload


def mvhd(timescale: int, duration: int, version: int = 0) -> bytes:
    if version == 0:
        times = struct.pack(">IIII", 0, 0, timescale, duration)
    else:
        times = struct.pack(">QQIQ", 0, 0, timescale, duration)
    # rate, volume, reserved, matrix, pre_defined, next_track_ID: present but irrelevant here.
    rest = (
        b"\x00\x01\x00\x00" + b"\x01\x00" + bytes(10) + bytes(36) + bytes(24) + b"\x00\x00\x00\x02"
    )
    return box(b"mvhd", bytes([version, 0, 0, 0]) + times + rest)


def ftyp(brand: bytes = b"isom") -> bytes:
    return box(b"ftyp", brand + b"\x00\x00\x02\x00" + brand + b"mp41")


def mp4(*, timescale: int, duration: int, version: int = 0, moov_first: bool = False) -> bytes:
    moov = box(b"moov", mvhd(timescale, duration, version) + box(b"trak", bytes(40)))
    media = large_box(b"mdat", bytes(range(256)) * 40)
    body = moov + media if moov_first else media + moov
    return ftyp() + box(b"free", b"") + body


# 3.4 KB a page: the upload stays under 100 MB however fast the machine.
MAX_SLOW_PAGES = 30_000


def slow_pdf(target_seconds: float = 40.0) -> bytes:
    """A PDF whose text extraction takes about `target_seconds` on this machine, always well
    past three visibility timeouts.

    Reading bytes is too fast (300 MB in under 4 s); parsing pages is what makes a long job.
    A page's cost depends on the machine (2 ms on a quiet CI runner, 15 ms on a busy one), so
    the page count comes from timing pypdf on a sample here rather than from a fixed number,
    which once made the job end after 10 s on a fast runner.
    """
    page_text = " ".join(f"word{n}" for n in range(400))
    sample_pages = 200
    sample = PdfReader(io.BytesIO(pdf_bytes([page_text] * sample_pages)))
    started = time.perf_counter()
    for page in sample.pages:
        page.extract_text()
    seconds_per_page = (time.perf_counter() - started) / sample_pages
    pages = min(MAX_SLOW_PAGES, max(5000, math.ceil(target_seconds / seconds_per_page)))
    return pdf_bytes([page_text] * pages)
