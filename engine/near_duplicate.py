"""A perceptual fingerprint, so the same picture sent twice counts once.

The same photo at another size, another JPEG quality or mirrored (phones mirror
selfies) has other bytes, so a hash of the file misses it. This is the classic
DCT perceptual hash: the picture in grey at 32×32, its 2-D DCT, and one bit per
low-frequency coefficient (the 8×8 block without the DC term) saying whether it
is above their median. Rescaling and recompression hardly move low frequencies;
a different photo, even of the same person in the same place, moves many.

A fingerprint is the hash of the picture and of its mirror image, written as
``"<16 hex>/<16 hex>"``, so it crosses the queue as text and is stored as text.
``benchmarks/calibrate_near_duplicate.py`` measures the bar on real photos. How two
fingerprints compare is the ground floor's (:mod:`sitter.fingerprint`): the bot compares
them too, without the engine.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from PIL import Image, ImageOps

from sitter.fingerprint import NEAR_BITS, distance, same_picture, valid

__all__ = ["NEAR_BITS", "distance", "fingerprint", "same_picture", "valid"]

if TYPE_CHECKING:
    import numpy as np

SIDE = 32
BLOCK = 8


@lru_cache(maxsize=1)
def _dct_matrix() -> np.ndarray:
    import numpy as np  # here, not above: the bot compares fingerprints without numpy

    n = np.arange(SIDE)
    m = np.cos(np.pi * (2 * n[None, :] + 1) * n[:, None] / (2 * SIDE))
    m[0] *= 1 / np.sqrt(2)
    return m * np.sqrt(2 / SIDE)


def _hash(grey: Image.Image) -> int:
    import numpy as np

    small = grey.resize((SIDE, SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0)
    pixels = np.asarray(small, dtype=np.float64)
    d = _dct_matrix()
    coeffs = (d @ pixels @ d.T)[:BLOCK, :BLOCK].flatten()[1:]  # 63 terms, no DC
    bits = coeffs > np.median(coeffs)
    return int("".join("1" if b else "0" for b in bits), 2)


def fingerprint(img: Image.Image) -> str:
    """The picture's fingerprint: its hash and its mirror's, ``"hex/hex"``."""
    grey = ImageOps.exif_transpose(img).convert("L")
    return f"{_hash(grey):016x}/{_hash(ImageOps.mirror(grey)):016x}"
