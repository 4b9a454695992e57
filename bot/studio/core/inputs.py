"""What people send, made safe to read: typed text cleaned, a file's kind from its bytes."""

from __future__ import annotations

import io
import re
import unicodedata
import warnings

from bot.studio.core.events import IncomingFile


def clean_text(text: str) -> str:
    """Drop control and format characters a user cannot see, collapse whitespace.

    Keeps emoji and right-to-left scripts; drops bidi overrides and zero-width marks.
    """
    spaced = re.sub(r"\s+", " ", text)
    kept = "".join(ch for ch in spaced if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    return re.sub(r" +", " ", kept).strip()


def file_ext(f: IncomingFile) -> str:
    """The extension a file is stored under, from its first bytes (never its name)."""
    head = (f.data or b"")[:16]
    for magic, ext in (
        (b"\xff\xd8\xff", "jpg"),
        (b"\x89PNG", "png"),
        (b"GIF8", "gif"),
        (b"BM", "bmp"),
    ):
        if head.startswith(magic):
            return ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return "heic"
    return "bin"


def declared_size(data: bytes) -> tuple[int, int] | None:
    """The width and height a picture's header declares, without decoding a pixel;
    None when Pillow here cannot tell (the engine's intake judges those)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                return int(im.width), int(im.height)
    except Exception:  # not a picture Pillow knows here, or a bomb: the engine says which
        return None
