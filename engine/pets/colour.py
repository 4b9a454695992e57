"""Has the pet kept its coat colours? A portrait's animal region against the references.

The typical failure of a pet portrait (seed 003): the coat drifts to the breed's average
(a grey tabby painted ginger, a black-and-white dog painted brown). The model keeps the
shape and loses the colours, which an image embedding hardly notices. So the colours are
measured directly, on the middle of the animal's box (``INNER`` of each side: mostly coat,
little background), in CIELAB:

- ``drift``: the distance (delta E 1976) between the region's mean Lab colour and the
  references' (the mean of their crops' middles);
- ``hue``: half the L1 distance between saturation-weighted hue histograms (0: the same
  hues, 1: none shared), reported for the log and the benchmark.

A monochrome portrait (pencil, black and white: the region's mean chroma under
``MONO_CHROMA``) is held to the references' lightness only: its style took the colours.

A variation drifts when ``drift`` exceeds ``DRIFT_LIMIT``. The limit is NOT calibrated on
real pet portraits (that needs real weights): a style's own palette (watercolour, pencil)
moves the mean too, so it is set well above a lighting change (delta E 5-15) and below a
coat of another colour (black to ginger is about 50). ``benchmarks/eval_likeness.py
--pets`` reports the figures to place it.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

from sitter.contract import ColourCheck

INNER = 0.6  # the middle share of the box that is measured
DRIFT_LIMIT = 25.0  # delta E 1976 of the mean Lab colours (uncalibrated: module doc)
HUE_BINS = 12
MIN_SATURATION = 0.15  # greys have no meaningful hue
MONO_CHROMA = 6.0  # mean sqrt(a^2 + b^2) under this: a monochrome picture


def _middle(image: Image.Image, box: tuple[int, int, int, int] | None) -> np.ndarray:
    """The middle INNER of ``box`` (the whole picture when None) as float RGB 0..1."""
    rgb = image.convert("RGB")
    left, top, right, bottom = box or (0, 0, rgb.width, rgb.height)
    dx, dy = (right - left) * (1 - INNER) / 2, (bottom - top) * (1 - INNER) / 2
    inner = rgb.crop((int(left + dx), int(top + dy), int(right - dx), int(bottom - dy)))
    if inner.width < 1 or inner.height < 1:
        inner = rgb
    inner.thumbnail((128, 128))
    return np.asarray(inner, np.float32) / 255.0


def mean_lab(pixels: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(pixels, cv2.COLOR_RGB2LAB)  # float input: L 0..100, a/b about -128..127
    return lab.reshape(-1, 3).mean(axis=0)


def hue_histogram(pixels: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(pixels, cv2.COLOR_RGB2HSV).reshape(-1, 3)  # H 0..360, S and V 0..1
    weight = np.where(hsv[:, 1] >= MIN_SATURATION, hsv[:, 1], 0.0)
    hist, _ = np.histogram(hsv[:, 0], bins=HUE_BINS, range=(0.0, 360.0), weights=weight)
    total = float(hist.sum())
    return hist / total if total > 0 else hist


def colour_check(
    image: Image.Image,
    box: tuple[int, int, int, int] | None,
    references: Sequence[Image.Image],
    limit: float = DRIFT_LIMIT,
) -> ColourCheck:
    """The animal region of ``image`` (its detected ``box``) against the references' crops."""
    region = _middle(image, box)
    refs = [_middle(r, None) for r in references]
    if not refs:
        return ColourCheck(drift=0.0, hue=0.0, limit=limit, passed=True, reason="no references")
    ref_lab = np.mean([mean_lab(r) for r in refs], axis=0)
    out_lab = mean_lab(region)
    mono = float(np.hypot(out_lab[1], out_lab[2])) < MONO_CHROMA
    drift = (
        abs(float(out_lab[0] - ref_lab[0])) if mono else float(np.linalg.norm(out_lab - ref_lab))
    )
    ref_hist = np.mean([hue_histogram(r) for r in refs], axis=0)
    out_hist = hue_histogram(region)
    hue = (
        0.5 * float(np.abs(out_hist - ref_hist).sum()) if ref_hist.sum() and out_hist.sum() else 0.0
    )
    passed = drift <= limit
    reason = ""
    if not passed and mono:
        reason = f"the coat's lightness drifted from the photos' (L {out_lab[0] - ref_lab[0]:+.0f})"
    elif not passed:
        reason = (
            f"the coat's colours drifted from the photos' (delta E {drift:.1f} > {limit:.0f}; "
            f"lightness {out_lab[0] - ref_lab[0]:+.0f}, a {out_lab[1] - ref_lab[1]:+.0f}, "
            f"b {out_lab[2] - ref_lab[2]:+.0f})"
        )
    return ColourCheck(
        drift=round(min(drift, 999.0), 2),
        hue=round(min(max(hue, 0.0), 1.0), 3),
        limit=limit,
        passed=passed,
        reason=reason,
    )
