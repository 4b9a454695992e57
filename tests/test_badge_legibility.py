"""The visible "Made with AI" badge: legible on light, dark and busy images at any size."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from engine.badge import (
    DEFAULT_TEXT,
    MIN_FONT,
    add_badge,
    contrast_ratio,
    label,
    layout,
    relative_luminance,
)
from engine.provenance import TRAINED_ALGORITHMIC_MEDIA, add_provenance, verify
from engine.signing import C2paCredentials, load_signer
from sitter.config import Settings


def _background(kind: str, size: int) -> Image.Image:
    if kind == "white":
        return Image.new("RGB", (size, size), (255, 255, 255))
    if kind == "black":
        return Image.new("RGB", (size, size), (0, 0, 0))
    rng = np.random.default_rng(size)
    return Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))


def _luminance(pixels: np.ndarray) -> np.ndarray:
    c = pixels.astype(np.float64) / 255
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def _worst_text_plate_contrast(image: Image.Image) -> tuple[float, int]:
    """Contrast of the worst pair (faintest text pixel vs closest plate pixel)."""
    lay = layout(image.width, image.height)
    x0, y0, x1, y1 = lay.plate
    box = (x0, y0, x1 + 1, y1 + 1)
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).text(
        lay.text_origin,
        DEFAULT_TEXT,
        font=lay.font,
        fill=255,
        stroke_width=lay.stroke,
        stroke_fill=255,
    )
    mask = mask.crop(box)
    near_text = np.asarray(mask.filter(ImageFilter.MaxFilter(3))) > 0
    core = np.asarray(mask) == 255  # glyph pixels fully covered by the text
    plate_mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(plate_mask).rounded_rectangle(lay.plate, radius=lay.radius, fill=255)
    inside = np.asarray(plate_mask.crop(box).filter(ImageFilter.MinFilter(3))) == 255
    plate = inside & ~near_text
    lum = _luminance(np.asarray(image.convert("RGB").crop(box)))
    text_l, plate_l = lum[core], lum[plate]
    assert text_l.size > 0 and plate_l.size > 0
    if text_l.mean() > plate_l.mean():
        return contrast_ratio(text_l.min(), plate_l.max()), int(core.sum())
    return contrast_ratio(text_l.max(), plate_l.min()), int(core.sum())


@pytest.mark.parametrize("size", [64, 512, 2048])
@pytest.mark.parametrize("kind", ["white", "black", "noise"])
def test_text_on_plate_meets_wcag_contrast(kind: str, size: int) -> None:
    before = _background(kind, size)
    after = add_badge(before)
    assert after.size == before.size and after.mode == before.mode
    ratio, text_pixels = _worst_text_plate_contrast(after)
    assert ratio >= 4.5, f"{kind} {size}px: contrast {ratio:.2f}"
    assert text_pixels >= 10


@pytest.mark.parametrize("kind", ["white", "black"])
def test_plate_stands_out_from_the_background(kind: str) -> None:
    before = _background(kind, 512)
    after = add_badge(before)
    x0, y0, x1, _ = layout(512, 512).plate
    centre_row = np.asarray(after)[y0 + 2, (x0 + x1) // 2]
    plate_l = relative_luminance(tuple(float(v) for v in centre_row))
    background_l = 1.0 if kind == "white" else 0.0
    assert contrast_ratio(plate_l, background_l) >= 3.0  # WCAG's bar for graphics


def test_badge_scales_with_the_short_side_within_the_image() -> None:
    sizes = {}
    for w, h in [(64, 64), (96, 64), (512, 512), (2048, 1024), (4096, 4096), (64, 4096)]:
        lay = layout(w, h)
        x0, y0, x1, y1 = lay.plate
        assert 0 <= x0 < x1 < w and 0 <= y0 < y1 < h
        assert (x1 - x0 + 1) <= 0.94 * w
        sizes[(w, h)] = lay.font_size
    assert sizes[(64, 64)] >= 6 and sizes[(96, 64)] >= MIN_FONT
    assert sizes[(512, 512)] < sizes[(2048, 1024)] < sizes[(4096, 4096)]
    assert sizes[(2048, 1024)] == round(1024 * 0.035)
    assert sizes[(4096, 4096)] == round(4096 * 0.035)


def test_only_the_corner_changes() -> None:
    before = _background("noise", 256)
    after = add_badge(before)
    x0, y0, _, _ = layout(256, 256).plate
    diff = np.abs(np.asarray(after).astype(int) - np.asarray(before).astype(int)).sum(axis=2)
    assert diff[:y0, :].sum() == 0 and diff[:, :x0].sum() == 0
    assert diff[y0:, x0:].mean() > 20


@pytest.mark.parametrize("mode", ["RGBA", "L", "P"])
def test_other_modes_and_4096_px(mode: str) -> None:
    before = _background("noise", 4096 if mode == "L" else 256).convert(mode)
    after = add_badge(before)
    assert after.size == before.size
    assert after.mode == (mode if mode != "P" else "RGB")
    ratio, _ = _worst_text_plate_contrast(after)
    assert ratio >= 4.5


def test_bad_text_is_refused() -> None:
    with pytest.raises(ValueError, match="1 to 40 characters"):
        add_badge(_background("white", 64), "")


@pytest.fixture
def signer(data_dir: Path) -> C2paCredentials:
    return load_signer(Settings(data_dir=data_dir))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_label_job_draws_and_signs_again(fmt: str, signer: C2paCredentials, tmp_path: Path) -> None:
    buf = io.BytesIO()
    _background("noise", 128).save(buf, fmt)
    original = add_provenance(buf.getvalue(), model="tiny", seed=77, signer=signer)
    path = tmp_path / f"labelled.{fmt.lower()}"
    path.write_bytes(label(original, signer=signer))
    labelled = path.read_bytes()

    report = verify(labelled, trust_anchors=signer.trust_anchor_pem)
    assert report.ai_labelled and report.c2pa_trusted
    assert report.xmp_source_type == TRAINED_ALGORITHMIC_MEDIA
    assert report.c2pa_actions == ["c2pa.opened", "c2pa.edited"]
    assert report.seed == 77 and report.ai_system == "tiny"
    assert report.text_note and "visible 'Made with AI' label" in report.text_note
    with Image.open(io.BytesIO(labelled)) as im:
        assert im.format == fmt and im.size == (128, 128)
        ratio, _ = _worst_text_plate_contrast(im.convert("RGB"))
        assert ratio >= 4.5
