"""A numbered contact sheet: many pictures in one image, each with its number.

Used where a person must pick by number ("remove photo 3") and the chat would
otherwise need one message per picture. Pure Pillow; the pictures come from the
studio's own media folder (already checked when they were accepted), and each
is decoded with a pixel cap anyway.
"""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw, ImageFont, ImageOps

TILE = 256
GAP = 8
MAX_COLS = 4
MAX_PIXELS = 40_000_000
BACKGROUND = (245, 245, 245)


def _tile(data: bytes, side: int) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        if im.width * im.height > MAX_PIXELS:
            raise ValueError("picture too large for a contact sheet")
        im.draft("RGB", (side * 2, side * 2))  # JPEG: decode at a fraction of the size
        pic = ImageOps.exif_transpose(im).convert("RGB")
    return ImageOps.fit(pic, (side, side), Image.Resampling.LANCZOS, centering=(0.5, 0.4))


def _badge(draw: ImageDraw.ImageDraw, x: int, y: int, text: str, size: int) -> None:
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = size // 3
    w, h = right - left + 2 * pad, bottom - top + 2 * pad
    draw.rounded_rectangle((x, y, x + w, y + h), radius=pad, fill=(20, 20, 20))
    draw.text((x + pad - left, y + pad - top), text, font=font, fill=(255, 255, 255))


def contact_sheet(
    pictures: list[bytes], *, tile: int = TILE, first: int = 1, numbers: list[int] | None = None
) -> bytes:
    """A JPEG of ``pictures`` in a grid, numbered from ``first`` in reading order (or
    with ``numbers``, one per picture, where the numbering has gaps)."""
    if not pictures:
        raise ValueError("no pictures for a contact sheet")
    if numbers is not None and len(numbers) != len(pictures):
        raise ValueError("one number per picture")
    cols = min(MAX_COLS, len(pictures))
    rows = math.ceil(len(pictures) / cols)
    sheet = Image.new(
        "RGB", (cols * tile + (cols + 1) * GAP, rows * tile + (rows + 1) * GAP), BACKGROUND
    )
    draw = ImageDraw.Draw(sheet)
    for i, data in enumerate(pictures):
        x = GAP + (i % cols) * (tile + GAP)
        y = GAP + (i // cols) * (tile + GAP)
        sheet.paste(_tile(data, tile), (x, y))
        label = numbers[i] if numbers is not None else first + i
        _badge(draw, x + GAP, y + GAP, str(label), max(14, tile // 8))
    out = io.BytesIO()
    sheet.save(out, "JPEG", quality=88)
    return out.getvalue()
