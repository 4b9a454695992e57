"""Attachments in both directions, within Discord's and the engine's limits.

Incoming: an attachment that is not an image, or is over the engine's limit, is
answered from its metadata alone (never downloaded). Outgoing: an image over the
channel's upload limit is re-encoded and, if need be, shrunk until it fits, so
a send never fails for size.
"""

from __future__ import annotations

import io
import mimetypes
from dataclasses import dataclass
from pathlib import Path

import discord
from PIL import Image as PILImage

from bot.studio.core.events import IncomingFile

DEFAULT_FILE_LIMIT = 10 * 1024 * 1024  # Discord's default per-file upload limit
REQUEST_LIMIT = 25 * 1024 * 1024  # all files of one message together
MAX_FILES = 10  # attachments per message
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".avif", ".bmp", ".tif", ".tiff"}


def _mb(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"


def _mime(att: discord.Attachment) -> str:
    if att.content_type:
        return att.content_type.split(";")[0].strip().lower()
    return (mimetypes.guess_type(att.filename)[0] or "").lower()


def looks_like_image(att: discord.Attachment) -> bool:
    mime = _mime(att)
    if mime:
        return mime.startswith("image/")
    return Path(att.filename).suffix.lower() in IMAGE_EXTS


async def fetch(att: discord.Attachment, max_bytes: int) -> IncomingFile:
    """Turn one attachment into the core's IncomingFile, downloading only what may be used."""
    mime = _mime(att)
    if not looks_like_image(att):
        kind = mime or "an unknown type"
        return IncomingFile(
            att.filename,
            None,
            att.size,
            mime,
            f"{att.filename} is not a photo ({kind}); send JPEG, PNG, WebP or HEIC photos",
        )
    if att.size > max_bytes:
        return IncomingFile(
            att.filename,
            None,
            att.size,
            mime,
            f"{att.filename} is {_mb(att.size)}, over the {_mb(max_bytes)} limit for a photo; "
            "send a smaller copy",
        )
    try:
        data = await att.read()
    except (discord.HTTPException, discord.NotFound) as exc:
        status = getattr(exc, "status", "?")
        return IncomingFile(
            att.filename, None, att.size, mime,
            f"Discord would not give me {att.filename} (HTTP {status}); please send it again",
        )  # fmt: skip
    return IncomingFile(att.filename, data, len(data), mime)


@dataclass(frozen=True)
class Fitted:
    data: bytes
    filename: str
    changed: bool  # re-encoded or resized: provenance metadata did not survive


def fit(data: bytes, filename: str, limit: int) -> Fitted:
    """Return the image as is when it fits, else re-encoded (JPEG) and shrunk until it does."""
    if len(data) <= limit:
        return Fitted(data, filename, False)
    img: PILImage.Image = PILImage.open(io.BytesIO(data))
    img.load()
    xmp = img.info.get("xmp")
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    stem = Path(filename).stem or "image"
    scale = 1.0
    while True:
        w, h = max(1, round(img.width * scale)), max(1, round(img.height * scale))
        frame = img if scale == 1.0 else img.resize((w, h), PILImage.Resampling.LANCZOS)
        for quality in (92, 85, 75):
            buf = io.BytesIO()
            kwargs = {"xmp": xmp} if xmp else {}
            frame.save(buf, "JPEG", quality=quality, optimize=True, **kwargs)
            if buf.tell() <= limit or max(w, h) <= 16:
                return Fitted(buf.getvalue(), f"{stem}.jpg", True)
        scale *= 0.75


def per_file_limit(limit: int, count: int) -> int:
    """The most one of ``count`` files may weigh so the message stays within both limits."""
    return max(1024, min(limit, REQUEST_LIMIT // max(1, count)))
