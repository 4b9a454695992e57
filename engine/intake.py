"""Safe decoding of uploaded photos.

Uploads are hostile until proven otherwise. The order of checks matters:

1. byte size, before anything is parsed;
2. the header only (``Image.open`` reads no pixels) restricted to the formats we
   accept, and the declared canvas checked against the pixel limit, so a 40-byte
   "decompression bomb" never allocates its gigapixels;
3. a full ``load()`` of the first frame with ``LOAD_TRUNCATED_IMAGES`` left off,
   so corrupt and truncated files are refused instead of half-decoded;
4. EXIF orientation (guarded: broken EXIF is ignored, never fatal), then a
   conversion of any mode (CMYK, 16/32-bit, alpha, palette) to plain RGB.

Every refusal is a :class:`PhotoRefused` with a :class:`PhotoProblem` and a
sentence a person understands. Decoding the hostile files in ../shared/bad-images
takes under 3 ms each (tests/test_intake_decode.py prints each outcome), and the
pixel limit bounds the work a file can ask for: a photo at the limit (8000x8000)
decodes in 0.3 s (JPEG) to 0.9 s (PNG) on one core (benchmarks/bench_analysis.py).
So decoding runs in the calling thread, with no subprocess.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import numpy as np
import pillow_heif
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from sitter.config import Settings
from sitter.contract import MAX_PIXELS_SIDE, FailureCode, PhotoProblem

pillow_heif.register_heif_opener()  # HEIC/HEIF from iPhones; Pillow 13 reads AVIF itself

# What we parse (JPEG also opens MPO, the multi-picture JPEG of cameras). Anything
# else (PSD, ICO, TGA, SGI, JPEG 2000, ...) is refused before its decoder runs:
# fewer parsers, fewer ways in.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF", "AVIF", "GIF", "BMP", "TIFF")
FRIENDLY_FORMATS = "JPEG, PNG, WebP or HEIC"

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_PIXELS = 64_000_000  # a 64 MP camera frame; about 200 MB as RGB
DEFAULT_MIN_SIDE = 256

ImageFile.LOAD_TRUNCATED_IMAGES = False
Image.init()  # register every plugin, so ``formats=`` can name them


class PhotoRefused(Exception):
    """A photo we will not use; ``detail`` is meant for the person who sent it."""

    failure_code = FailureCode.BAD_IMAGE  # the job's answer (engine/job_errors.py)

    def __init__(self, problem: PhotoProblem, detail: str, width: int = 0, height: int = 0) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail
        self.width = width  # the picture's size when it was read that far (0: unknown)
        self.height = height


@dataclass(frozen=True)
class IntakeLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    min_side: int = DEFAULT_MIN_SIDE

    @classmethod
    def from_settings(cls, settings: Settings) -> IntakeLimits:
        return cls(
            max_bytes=settings.max_upload_bytes,
            max_pixels=settings.photo_max_pixels,
            min_side=settings.photo_min_side,
        )


@dataclass
class DecodedPhoto:
    image: Image.Image  # RGB, upright
    format: str  # as Pillow names it: JPEG, PNG, WEBP, HEIF, AVIF, ...
    width: int  # upright size of the decoded image
    height: int
    original_mode: str
    notes: list[str] = field(default_factory=list)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _sniff_format(data: bytes) -> str | None:
    """Name a format we do not accept, reading its header only (no pixels)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                return im.format
    except Image.DecompressionBombError:
        raise PhotoRefused(
            PhotoProblem.TOO_LARGE,
            "This file claims an enormous picture size, so I did not open it.",
        ) from None
    except Exception:
        return None


def _open_header(data: bytes, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError:
        raise PhotoRefused(
            PhotoProblem.TOO_LARGE,
            "This file claims an enormous picture size, so I did not open it.",
        ) from None
    except UnidentifiedImageError:
        other = _sniff_format(data)
        if other:
            raise PhotoRefused(
                PhotoProblem.UNSUPPORTED,
                f"I can't use {other} files. Please send a {FRIENDLY_FORMATS} photo.",
            ) from None
        raise PhotoRefused(
            PhotoProblem.UNREADABLE,
            f"I can't read this file as a picture. Please send a {FRIENDLY_FORMATS} photo.",
        ) from None
    except Exception as exc:  # header parsers raise many types on garbage
        raise PhotoRefused(
            PhotoProblem.UNREADABLE,
            f"This picture file is damaged and can't be opened ({type(exc).__name__}).",
        ) from None
    w, h = im.size
    if w <= 0 or h <= 0:
        raise PhotoRefused(PhotoProblem.UNREADABLE, "This picture file says it has no pixels.")
    if w * h > max_pixels:
        raise PhotoRefused(
            PhotoProblem.TOO_LARGE,
            f"This picture is {w}x{h} pixels, more than I accept "
            f"({max_pixels / 1e6:.0f} megapixels). Please send a smaller copy.",
        )
    if max(w, h) > MAX_PIXELS_SIDE:
        # A 1x64,000,000 strip is within the pixel limit, but no photo: refused from its
        # header, before its pixels are decoded (and before a size no reply can carry).
        raise PhotoRefused(
            PhotoProblem.TOO_LARGE,
            f"This picture is {w}x{h} pixels: longer than the {MAX_PIXELS_SIDE:,} pixels "
            "I accept on a side, so I did not open it. Please send a photo of you.",
        )
    return im


def _sensor_range(hi: float) -> float:
    """The full scale of integer data: 10/12/14-bit sensor values often sit in 16 bits."""
    for bits in (8, 10, 12, 14, 16):
        if hi <= 2**bits - 1:
            return float(2**bits - 1)
    return hi


def _to_8bit(im: Image.Image) -> Image.Image:
    """16-bit integer and 32-bit float greyscale to 8-bit, keeping the visible range."""
    arr = np.asarray(im, dtype=np.float64)
    finite = arr[np.isfinite(arr)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if im.mode == "F" and lo >= 0.0 and hi <= 1.0:
        arr = arr * 255.0
    elif im.mode != "F" and lo >= 0.0:
        arr = arr * (255.0 / _sensor_range(hi))
    elif lo < 0.0 or hi > 255.0:
        arr = (arr - lo) * (255.0 / max(hi - lo, 1e-9))
    arr = np.nan_to_num(arr, nan=0.0, posinf=255.0, neginf=0.0)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L")


def _flatten_on_white(im: Image.Image) -> Image.Image:
    rgba = im.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def to_rgb(im: Image.Image, notes: list[str]) -> Image.Image:
    """Any Pillow mode to RGB; transparency is composited on white."""
    mode = im.mode
    if mode == "RGB":
        return im
    if mode in ("I", "F") or mode.startswith("I;16"):
        notes.append(f"converted {mode} (high bit depth) to 8-bit")
        return _to_8bit(im).convert("RGB")
    if mode == "P" and "transparency" in im.info:
        notes.append("transparent areas put on white")
        return _flatten_on_white(im)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        notes.append("transparent areas put on white")
        return _flatten_on_white(im)
    if mode == "CMYK":
        notes.append("converted CMYK to RGB")
    return im.convert("RGB")


def _upright(im: Image.Image, notes: list[str]) -> Image.Image:
    try:
        orientation = im.getexif().get(0x0112, 1)
    except Exception:
        notes.append("unreadable EXIF ignored")
        return im
    if orientation in (None, 1):
        return im
    try:
        out = ImageOps.exif_transpose(im)
    except Exception:
        notes.append("broken EXIF orientation ignored")
        return im
    notes.append(f"rotated upright (EXIF orientation {orientation})")
    return out if out is not None else im


def _check_second_frame(im: Image.Image) -> None:
    """Refuse animations whose next frame declares a bomb-sized canvas.

    Only the first frame is used, but a file that asks for gigapixels anywhere
    is hostile (Pillow's decompression_bomb_extents.gif). Checking frame 2 costs
    one frame decode; later frames are not visited.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im.seek(1)
    except Image.DecompressionBombError:
        raise PhotoRefused(
            PhotoProblem.TOO_LARGE,
            "This animation claims an enormous picture size, so I did not open it.",
        ) from None
    except Exception:
        pass  # a broken later frame does not matter: the first one is used


def decode_photo(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = DEFAULT_MIN_SIDE,
) -> DecodedPhoto:
    """Bytes from a user to an upright RGB image, or :class:`PhotoRefused`."""
    # 1. bytes
    if not data:
        raise PhotoRefused(PhotoProblem.UNREADABLE, "This file is empty.")
    if len(data) > max_bytes:
        raise PhotoRefused(
            PhotoProblem.TOO_LARGE,
            f"This file is {_mb(len(data))}; the most I accept is {_mb(max_bytes)}.",
        )
    # 2. header and declared size
    im = _open_header(data, max_pixels)
    fmt = str(im.format or "")
    notes: list[str] = []
    try:
        n_frames = int(getattr(im, "n_frames", 1) or 1)
    except Exception:  # a broken later frame: the first may still be fine
        n_frames = 1
    if n_frames > 1:
        notes.append(f"animated or multi-page ({n_frames} frames): used the first")
        _check_second_frame(im)
        im = _open_header(data, max_pixels)
    # 3. the pixels of the first frame, all of them
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im.load()
    except Image.DecompressionBombError:
        raise PhotoRefused(
            PhotoProblem.TOO_LARGE,
            "This file claims an enormous picture size, so I did not open it.",
        ) from None
    except MemoryError:
        raise PhotoRefused(PhotoProblem.TOO_LARGE, "This picture is too large to open.") from None
    except Exception as exc:
        truncated = "truncat" in str(exc).lower()
        raise PhotoRefused(
            PhotoProblem.UNREADABLE,
            "This picture file is cut off (incomplete download?). Please send it again."
            if truncated
            else f"This picture file is damaged and can't be decoded ({fmt or 'unknown format'}).",
        ) from None
    original_mode = im.mode
    # 4. orientation and colours
    try:
        im = _upright(im, notes)
        rgb = to_rgb(im, notes)
        rgb.load()
    except PhotoRefused:
        raise
    except Exception as exc:
        raise PhotoRefused(
            PhotoProblem.UNREADABLE,
            f"I could not convert this {fmt} picture ({original_mode}) to colour: {exc}.",
        ) from None
    rgb.info.clear()  # drop EXIF, ICC, XMP: nothing of the upload travels further
    w, h = rgb.size
    if min(w, h) < min_side:
        raise PhotoRefused(
            PhotoProblem.LOW_RESOLUTION,
            f"This picture is only {w}x{h} pixels; please send one at least "
            f"{min_side} pixels on its shorter side.",
            width=w,
            height=h,
        )
    return DecodedPhoto(
        image=rgb, format=fmt, width=w, height=h, original_mode=original_mode, notes=notes
    )


def decode_with_limits(data: bytes, limits: IntakeLimits) -> DecodedPhoto:
    return decode_photo(
        data, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels, min_side=limits.min_side
    )
