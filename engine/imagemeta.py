"""Byte-level metadata in PNG and JPEG files: add or read XMP and text notes
without decoding or re-encoding the pixels.

PNG: XMP in an iTXt chunk keyed ``XML:com.adobe.xmp``; notes in iTXt/tEXt chunks.
JPEG: XMP in an APP1 segment (``http://ns.adobe.com/xap/1.0/``); notes in an EXIF
APP1 segment (ImageDescription, Software).

Writing replaces what was there (old XMP, notes, EXIF and any C2PA manifest, whose
hash those edits would break anyway), so calling it twice leaves one copy.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_PNG_KEY = "XML:com.adobe.xmp"
XMP_JPEG_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
EXIF_HEADER = b"Exif\x00\x00"
# A C2PA manifest store: the ``caBX`` chunk in PNG, APP11 JUMBF segments in JPEG.
C2PA_PNG_CHUNK = b"caBX"

EXIF_IMAGE_DESCRIPTION = 0x010E
EXIF_SOFTWARE = 0x0131


class MetadataError(ValueError):
    """The bytes are not a PNG or JPEG this module can read or write."""


def image_format(data: bytes) -> str:
    """'png' or 'jpeg' from the magic bytes, or raise MetadataError."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    head = data[:12]
    kind = "WebP" if head[8:12] == b"WEBP" else "GIF" if head[:3] == b"GIF" else "unknown"
    raise MetadataError(f"AI labels support PNG and JPEG files only; this one is {kind}")


MIME = {"png": "image/png", "jpeg": "image/jpeg"}


@dataclass
class Metadata:
    """What a file says about itself: XMP packet and text notes (key -> text)."""

    xmp: bytes | None = None
    notes: dict[str, str] = field(default_factory=dict)
    has_c2pa: bool = False


# --- PNG --------------------------------------------------------------------------------------
def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes, int, int]]:
    """(type, payload, start, end) for each chunk; raises on a truncated file."""
    pos = len(PNG_SIGNATURE)
    while pos < len(data):
        if pos + 8 > len(data):
            raise MetadataError("truncated PNG (chunk header cut off)")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise MetadataError(f"truncated PNG (chunk {ctype!r} cut off)")
        yield ctype, data[pos + 8 : pos + 8 + length], pos, end
        pos = end
        if ctype == b"IEND":
            return


def _png_chunk(ctype: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(ctype + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", crc)


def _itxt(key: str, text: str) -> bytes:
    # keyword, NUL, compression flag 0, method 0, empty language tag, empty translated key
    return _png_chunk(b"iTXt", key.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode())


MAX_TEXT = 1 << 20  # a text chunk larger than 1 MiB once inflated is not ours


def _inflate(data: bytes) -> bytes:
    """zlib-decompress at most MAX_TEXT bytes (a zTXt/iTXt chunk can be a zip bomb)."""
    return zlib.decompressobj().decompress(data, MAX_TEXT)


def _parse_text_chunk(ctype: bytes, payload: bytes) -> tuple[str, str] | None:
    key, sep, rest = payload.partition(b"\x00")
    if not sep:
        return None
    name = key.decode("latin-1")
    if ctype == b"tEXt":
        return name, rest.decode("latin-1")
    if ctype == b"zTXt":
        return name, _inflate(rest[1:]).decode("latin-1")
    # iTXt: flag, method, lang\0, translated\0, text
    if len(rest) < 2:
        return None
    flag, body = rest[0], rest[2:]
    parts = body.split(b"\x00", 2)
    if len(parts) < 3:
        return None
    text = parts[2]
    if flag:
        text = _inflate(text)
    return name, text.decode("utf-8", errors="replace")


def read_png(data: bytes) -> Metadata:
    meta = Metadata()
    for ctype, payload, _, _ in _png_chunks(data):
        if ctype == C2PA_PNG_CHUNK:
            meta.has_c2pa = True
        elif ctype in (b"tEXt", b"iTXt", b"zTXt"):
            parsed = _parse_text_chunk(ctype, payload)
            if parsed is None:
                continue
            key, text = parsed
            if key == XMP_PNG_KEY:
                meta.xmp = text.encode()
            else:
                meta.notes[key] = text
    return meta


def write_png(data: bytes, *, xmp: bytes, notes: dict[str, str]) -> bytes:
    """Insert XMP and notes right after IHDR, dropping old copies and any C2PA store."""
    replaced = {XMP_PNG_KEY, *notes}
    out = [PNG_SIGNATURE]
    for ctype, payload, start, end in _png_chunks(data):
        if ctype == C2PA_PNG_CHUNK:
            continue
        if ctype in (b"tEXt", b"iTXt", b"zTXt"):
            parsed = _parse_text_chunk(ctype, payload)
            if parsed and parsed[0] in replaced:
                continue
        out.append(data[start:end])
        if ctype == b"IHDR":
            out.append(_itxt(XMP_PNG_KEY, xmp.decode()))
            out.extend(_itxt(k, v) for k, v in notes.items())
    return b"".join(out)


# --- JPEG -------------------------------------------------------------------------------------
def _jpeg_segments(data: bytes) -> Iterator[tuple[int, bytes, int, int]]:
    """(marker, payload, start, end) for each header segment up to the scan (SOS)."""
    pos = 2
    while pos < len(data):
        if data[pos] != 0xFF:
            raise MetadataError(f"corrupt JPEG (no marker at byte {pos})")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA or marker == 0xD9:  # start of scan / end of image: the rest is data
            yield marker, b"", pos, len(data)
            return
        if pos + 4 > len(data):
            raise MetadataError("truncated JPEG")
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if end > len(data):
            raise MetadataError("truncated JPEG")
        yield marker, data[pos + 4 : end], pos, end
        pos = end


def _app1(payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        raise MetadataError("metadata too large for one JPEG segment")
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def _exif_bytes(notes: dict[str, str]) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    if "Description" in notes:
        exif[EXIF_IMAGE_DESCRIPTION] = notes["Description"]
    if "Software" in notes:
        exif[EXIF_SOFTWARE] = notes["Software"]
    raw = exif.tobytes()
    return raw if raw.startswith(EXIF_HEADER) else EXIF_HEADER + raw


def _read_exif(payload: bytes) -> dict[str, str]:
    from PIL import Image

    exif = Image.Exif()
    exif.load(payload)
    notes = {}
    for tag, key in ((EXIF_IMAGE_DESCRIPTION, "Description"), (EXIF_SOFTWARE, "Software")):
        value = exif.get(tag)
        if value is not None:
            notes[key] = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return notes


def _is_c2pa_app11(marker: int, payload: bytes) -> bool:
    # APP11 "JP" JUMBF segments; C2PA's superbox carries the label "c2pa".
    return marker == 0xEB and payload[:2] == b"JP"


def read_jpeg(data: bytes) -> Metadata:
    meta = Metadata()
    for marker, payload, _, _ in _jpeg_segments(data):
        if marker == 0xE1 and payload.startswith(XMP_JPEG_HEADER):
            meta.xmp = payload[len(XMP_JPEG_HEADER) :]
        elif marker == 0xE1 and payload.startswith(EXIF_HEADER):
            meta.notes.update(_read_exif(payload))
        elif _is_c2pa_app11(marker, payload):
            meta.has_c2pa = True
    return meta


def write_jpeg(data: bytes, *, xmp: bytes, notes: dict[str, str]) -> bytes:
    """Put EXIF and XMP APP1 segments after SOI/APP0, dropping old ones and any C2PA store."""
    new = _app1(_exif_bytes(notes)) + _app1(XMP_JPEG_HEADER + xmp)
    out = [b"\xff\xd8"]
    inserted = False
    for marker, payload, start, end in _jpeg_segments(data):
        if marker == 0xE1 and payload.startswith((XMP_JPEG_HEADER, EXIF_HEADER)):
            continue
        if _is_c2pa_app11(marker, payload):
            continue
        if not inserted and marker != 0xE0:  # after JFIF's APP0, before everything else
            out.append(new)
            inserted = True
        out.append(data[start:end])
    if not inserted:
        out.append(new)
    return b"".join(out)


def read(data: bytes) -> Metadata:
    return read_png(data) if image_format(data) == "png" else read_jpeg(data)


def write(data: bytes, *, xmp: bytes, notes: dict[str, str]) -> bytes:
    if image_format(data) == "png":
        return write_png(data, xmp=xmp, notes=notes)
    return write_jpeg(data, xmp=xmp, notes=notes)
