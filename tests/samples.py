"""Real sample inputs built in code: a PDF with text, an MP4 with a known duration."""

import io
import struct

from pypdf import PdfWriter
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
