"""Safe photo decoding: real hostile files from ../shared/bad-images and made ones."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import BAD_IMAGES, insightface_image, needs_shared
from PIL import Image

from engine.intake import PhotoRefused, decode_photo
from sitter.contract import PhotoProblem

P = PhotoProblem

# The clear cases; every other file must just end in a photo or a specific refusal.
EXPECTED = {
    "empty.jpg": P.UNREADABLE,
    "text_named.jpg": P.UNREADABLE,
    "broken.png": P.UNREADABLE,
    "decompression_bomb.gif": P.TOO_LARGE,
    "decompression_bomb.ico": P.TOO_LARGE,
    "decompression_bomb_extents.gif": P.TOO_LARGE,
    "bmp_b_badwidth.bmp": P.TOO_LARGE,
    "truncated_jpeg.jpg": P.UNREADABLE,
    "truncated_image.png": P.UNREADABLE,
    "truncated_end_chunk.png": P.UNREADABLE,
    "broken_data_stream.png": P.UNREADABLE,
    "hopper.psd": P.UNSUPPORTED,
    "hopper.ico": P.UNSUPPORTED,
    "crash-465703f71a0f0094873a3e0e82c9f798161171b8.sgi": P.UNSUPPORTED,
}
UPRIGHT = ("hopper_orientation_3.jpg", "hopper_orientation_6.jpg")


def _bad_images() -> list[Path]:
    if not BAD_IMAGES.is_dir():
        return []
    return sorted(p for p in BAD_IMAGES.iterdir() if p.suffix != ".md")


def _png(image: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", **kw)
    return buf.getvalue()


@needs_shared
@pytest.mark.parametrize("path", _bad_images(), ids=lambda p: p.name)
def test_every_bad_image_ends_in_a_photo_or_a_specific_refusal(path: Path) -> None:
    start = time.perf_counter()
    try:
        photo = decode_photo(path.read_bytes(), min_side=1)
        outcome = f"accepted {photo.format} {photo.original_mode} {photo.width}x{photo.height}"
        problem = None
        assert photo.image.mode == "RGB" and photo.image.size == (photo.width, photo.height)
    except PhotoRefused as refused:
        problem = refused.problem
        outcome = f"{problem.value}: {refused.detail}"
        assert refused.detail.endswith(".")
    elapsed = time.perf_counter() - start
    print(f"{path.name}: {outcome} ({elapsed * 1000:.1f} ms)")
    assert elapsed < 20.0  # a hang guard (a decoded bomb takes minutes), not a speed target
    if path.name in EXPECTED:
        assert problem is EXPECTED[path.name], outcome


@needs_shared
def test_orientation_is_applied_so_the_face_is_upright() -> None:
    upright = np.asarray(decode_photo((BAD_IMAGES / "hopper.bmp").read_bytes(), min_side=1).image)
    for name in UPRIGHT:
        raw = np.asarray(Image.open(BAD_IMAGES / name).convert("RGB"), np.float32)
        fixed = decode_photo((BAD_IMAGES / name).read_bytes(), min_side=1)
        diff = np.abs(np.asarray(fixed.image, np.float32) - upright).mean()
        assert diff < 10, (name, diff)  # JPEG noise only
        assert np.abs(raw - upright).mean() > 40  # stored rotated
        assert any("rotated upright" in n for n in fixed.notes)


@needs_shared
def test_cmyk_and_high_bit_depth_become_rgb() -> None:
    cmyk = decode_photo((BAD_IMAGES / "pil_sample_cmyk.jpg").read_bytes(), min_side=1)
    assert cmyk.original_mode == "CMYK" and cmyk.image.mode == "RGB"
    for name in ("16bit.cropped.tif", "10ct_32bit_128.tiff"):
        photo = decode_photo((BAD_IMAGES / name).read_bytes(), min_side=1)
        arr = np.asarray(photo.image)
        assert photo.image.mode == "RGB" and arr.std() > 5  # not a flat clipped image


@needs_shared
def test_small_portraits_are_low_resolution() -> None:
    with pytest.raises(PhotoRefused) as err:
        decode_photo((BAD_IMAGES / "hopper.webp").read_bytes())
    assert err.value.problem is P.LOW_RESOLUTION and "128x128" in err.value.detail


def test_tom_hanks_112px_is_low_resolution() -> None:
    with pytest.raises(PhotoRefused) as err:
        decode_photo(insightface_image("Tom_Hanks_54745.png").read_bytes())
    assert err.value.problem is P.LOW_RESOLUTION


def test_limits_are_checked_before_decoding() -> None:
    data = _png(Image.new("RGB", (2000, 1500), "white"))
    with pytest.raises(PhotoRefused) as err:
        decode_photo(data, max_bytes=len(data) - 1)
    assert err.value.problem is P.TOO_LARGE
    with pytest.raises(PhotoRefused) as err:
        decode_photo(data, max_pixels=2_000_000)
    assert err.value.problem is P.TOO_LARGE and "2000x1500" in err.value.detail


def test_alpha_is_composited_on_white_and_16bit_png_kept() -> None:
    rgba = Image.new("RGBA", (300, 300), (255, 0, 0, 0))
    photo = decode_photo(_png(rgba))
    assert photo.image.getpixel((10, 10)) == (255, 255, 255)
    grey16 = Image.fromarray((np.arange(300 * 300).reshape(300, 300) % 65535).astype(np.uint16))
    photo = decode_photo(_png(grey16))
    assert photo.image.mode == "RGB" and np.asarray(photo.image).max() > 200


def test_heic_and_avif_photos_decode() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    source = Image.fromarray(
        np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    )
    heif = pillow_heif.from_pillow(source)
    buf = io.BytesIO()
    heif.save(buf, format="HEIF", quality=90)
    photo = decode_photo(buf.getvalue())
    assert photo.format == "HEIF" and (photo.width, photo.height) == (400, 300)
    buf = io.BytesIO()
    source.save(buf, "AVIF", quality=90)
    photo = decode_photo(buf.getvalue())
    assert photo.format == "AVIF" and photo.image.mode == "RGB"


def test_animation_uses_the_first_frame() -> None:
    frames = [Image.new("RGB", (300, 300), c) for c in ("red", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100)
    photo = decode_photo(buf.getvalue())
    assert photo.image.getpixel((5, 5)) == (255, 0, 0)
    assert any("2 frames" in n for n in photo.notes)


def test_exif_orientation_on_a_made_photo_and_broken_exif_is_harmless() -> None:
    tall = Image.new("RGB", (300, 400), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buf = io.BytesIO()
    tall.save(buf, "JPEG", exif=exif.tobytes())
    photo = decode_photo(buf.getvalue())
    assert (photo.width, photo.height) == (400, 300)
    buf = io.BytesIO()
    tall.save(buf, "JPEG", exif=b"Exif\x00\x00garbage that is not a TIFF header")
    assert decode_photo(buf.getvalue()).width == 300


def _strip_png(width: int, height: int, *, idat: bool = True) -> bytes:
    """A greyscale PNG of ``width`` x ``height`` black pixels, built row by row (a 1 x
    64,000,000 strip is about 190 KB); without ``idat`` its pixel data is garbage."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compressobj(9)
    rows = (b"\x00" + bytes(width)) * 1_000_000
    body = b"".join(pixels.compress(rows) for _ in range(height // 1_000_000))
    body += pixels.compress((b"\x00" + bytes(width)) * (height % 1_000_000)) + pixels.flush()
    data = body if idat else b"not zlib at all"
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def test_a_strip_longer_than_any_side_is_refused_in_words_before_decoding() -> None:
    """Issue 22, item 8: a 1 x 64,000,000 PNG is within the pixel limit, but its size
    fits no reply: it ended in "the engine hit an unexpected error"."""
    strip = _strip_png(1, 64_000_000)
    assert len(strip) < 1_000_000
    start = time.perf_counter()
    with pytest.raises(PhotoRefused) as err:
        decode_photo(strip)
    assert time.perf_counter() - start < 0.5  # nothing decoded (sanity bound only)
    assert err.value.problem is P.TOO_LARGE
    assert err.value.detail == (
        "This picture is 1x64000000 pixels: longer than the 65,536 pixels I accept on a "
        "side, so I did not open it. Please send a photo of you."
    )
    # Refused from the header: the same words when the pixel data is garbage.
    with pytest.raises(PhotoRefused) as err:
        decode_photo(_strip_png(300, 70_000, idat=False))
    assert err.value.problem is P.TOO_LARGE and "300x70000" in err.value.detail


def test_the_strip_gets_a_verdict_from_the_analysis_not_an_error(tmp_path: Path) -> None:
    """Through engine/analysis.py, as the worker answers the bot (and /protect)."""
    from engine.analysis import analyze_photo
    from engine.faces.dlib_backend import DlibAnalyzer
    from sitter.contract import AnalyzePhotoRequest, AnalyzePhotoResult

    req = AnalyzePhotoRequest(photo=_strip_png(1, 64_000_000), filename="strip.png")
    result = analyze_photo(req, DlibAnalyzer())
    assert not result.accepted and [i.problem for i in result.issues] == [P.TOO_LARGE]
    assert "1x64000000 pixels" in result.issues[0].detail
    assert AnalyzePhotoResult.model_validate(result.model_dump()) == result  # a valid reply
