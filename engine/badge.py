"""The visible "Made with AI" badge, and the label job (badge + provenance, re-signed).

The badge is a semi-opaque rounded plate in the bottom-right corner with the text
on it. The plate is dark on light backgrounds and light on dark ones (mean
luminance under it), and opaque enough (78 %) that text and plate keep a contrast
ratio above 9:1 whatever pixel lies beneath, so it reads on white, black and busy
images. The text height follows the image's short side (3.5 %) with a minimum, and
the badge never covers more than 94 % of the width. The font is Pillow's built-in
scalable one (``ImageFont.load_default(size=...)``), present on every machine.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from engine.provenance import ProvenanceError, carry_provenance
from engine.signing import C2paCredentials

DEFAULT_TEXT = "Made with AI"
TEXT_SHARE = 0.035  # font size / short side
MIN_FONT = 9
HARD_MIN_FONT = 6  # only when the image is too narrow for MIN_FONT
MAX_WIDTH_SHARE = 0.94
SMALL_FONT = 14  # below this, glyphs get a 0.3 px stroke so strokes reach full colour
SMALL_STROKE = 0.3
PLATE_ALPHA = 200  # of 255
DARK = (18, 18, 18)
LIGHT = (246, 246, 246)
LIGHT_BACKGROUND = 0.45  # relative luminance above which the plate is dark
MAX_TEXT_LEN = 40
MAX_PIXELS = 64_000_000


@dataclass(frozen=True)
class BadgeLayout:
    font: ImageFont.FreeTypeFont
    font_size: int
    plate: tuple[int, int, int, int]  # x0, y0, x1, y1 (inclusive)
    text_origin: tuple[int, int]
    radius: int
    stroke: float  # faux bold for small text, whose thin strokes would render grey


def _font(size: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):
        raise RuntimeError("Pillow was built without FreeType; the badge needs a scalable font")
    return font


def layout(width: int, height: int, text: str = DEFAULT_TEXT) -> BadgeLayout:
    """Where the badge goes on a ``width`` x ``height`` image and how big it is."""
    short = min(width, height)
    size = max(MIN_FONT, round(short * TEXT_SHARE))
    while True:
        font = _font(size)
        stroke = SMALL_STROKE if size < SMALL_FONT else 0.0
        box = font.getbbox(text, stroke_width=stroke)
        left, top = math.floor(box[0]), math.floor(box[1])
        right, bottom = math.ceil(box[2]), math.ceil(box[3])
        pad_x, pad_y = max(2, round(size * 0.4)), max(1, round(size * 0.25))
        plate_w, plate_h = (right - left) + 2 * pad_x, (bottom - top) + 2 * pad_y
        if plate_w <= width * MAX_WIDTH_SHARE or size <= HARD_MIN_FONT:
            break
        size -= 1
    margin = max(1, round(short * 0.02))
    x1, y1 = width - 1 - margin, height - 1 - margin
    x0, y0 = max(0, x1 - plate_w + 1), max(0, y1 - plate_h + 1)
    origin = (x0 + pad_x - left, y0 + pad_y - top)
    radius = max(1, round(plate_h * 0.3))
    return BadgeLayout(font, size, (x0, y0, x1, y1), origin, radius, stroke)


def relative_luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0..255 channels)."""

    def lin(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def contrast_ratio(l1: float, l2: float) -> float:
    hi, lo = max(l1, l2), min(l1, l2)
    return (hi + 0.05) / (lo + 0.05)


def add_badge(
    image: Image.Image, text: str = DEFAULT_TEXT, lay: BadgeLayout | None = None
) -> Image.Image:
    """A copy of ``image`` with the badge drawn on it (same size and mode); ``lay``:
    somewhere else than the bottom-right corner (engine/avatar.py: inside the circle)."""
    if not text.strip() or len(text) > MAX_TEXT_LEN:
        raise ValueError(f"badge text must be 1 to {MAX_TEXT_LEN} characters")
    out = image.copy() if image.mode in ("RGB", "RGBA", "L") else image.convert("RGB")
    lay = lay or layout(out.width, out.height, text)
    x0, y0, x1, y1 = lay.plate
    # Work on the plate's patch only: cheap even on a 4096 px image.
    patch = out.crop((x0, y0, x1 + 1, y1 + 1)).convert("RGBA")
    mean = patch.convert("RGB").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    assert isinstance(mean, tuple)  # an RGB image's pixel: (r, g, b)
    light_bg = relative_luminance((mean[0], mean[1], mean[2])) > LIGHT_BACKGROUND
    plate_rgb, text_rgb = (DARK, LIGHT) if light_bg else (LIGHT, DARK)

    overlay = Image.new("RGBA", patch.size, (0, 0, 0, 0))
    ImageDraw.Draw(overlay).rounded_rectangle(
        (0, 0, x1 - x0, y1 - y0), radius=lay.radius, fill=(*plate_rgb, PLATE_ALPHA)
    )
    patch = Image.alpha_composite(patch, overlay)
    ink = (*text_rgb, 255)
    ImageDraw.Draw(patch).text(
        (lay.text_origin[0] - x0, lay.text_origin[1] - y0),
        text,
        font=lay.font,
        fill=ink,
        stroke_width=lay.stroke,
        stroke_fill=ink,
    )
    out.paste(patch.convert(out.mode), (x0, y0))
    return out


def label(image: bytes, *, signer: C2paCredentials, text: str = DEFAULT_TEXT) -> bytes:
    """The label job: draw the badge, keep the format, sign again with the original as parent.

    Model and seed come from the original's own provenance (its XMP).
    """
    try:
        with Image.open(io.BytesIO(image)) as im:
            if im.width * im.height > MAX_PIXELS:
                raise ProvenanceError(f"image too large to label ({im.width}x{im.height})")
            fmt = im.format
            if fmt not in ("PNG", "JPEG"):
                raise ProvenanceError(f"labels support PNG and JPEG; got {fmt}")
            im.load()
            badged = add_badge(im, text)
    except (OSError, Image.DecompressionBombError) as exc:
        raise ProvenanceError(f"cannot read the image to label: {exc}") from None
    buf = io.BytesIO()
    if fmt == "JPEG":
        badged.convert("RGB").save(buf, "JPEG", quality=95)
    else:
        badged.save(buf, "PNG")
    return carry_provenance(buf.getvalue(), image, signer=signer, edit=f"visible '{text}' label")
