"""A perceptual fingerprint, so the same picture sent twice counts once.

The same photo at another size, another JPEG quality or mirrored (phones mirror
selfies) has other bytes, so a hash of the file misses it. This is the classic
DCT perceptual hash: the picture in grey at 32×32, its 2-D DCT, and one bit per
low-frequency coefficient (the 8×8 block without the DC term) saying whether it
is above their median. Rescaling and recompression hardly move low frequencies;
a different photo, even of the same person in the same place, moves many.

A fingerprint is the hash of the picture and of its mirror image, written as
``"<16 hex>/<16 hex>"``, so it crosses the queue as text and is stored as text.
``benchmarks/calibrate_near_duplicate.py`` measures the bar on real photos.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from PIL import Image, ImageOps

if TYPE_CHECKING:
    import numpy as np

SIDE = 32
BLOCK = 8
# Bits (of 63) that may differ for two files to count as one picture. Measured with
# benchmarks/calibrate_near_duplicate.py on the 36 photos of ../shared/faces: copies
# differ by at most 6 bits (a quarter of the size and JPEG q15 together) or 8 (a 2%
# border trimmed); two different photos by at least 12 (two studio shots of one
# person against white), most pairs by 18 or more.
NEAR_BITS = 10


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


def _parts(fp: str) -> tuple[int, int]:
    a, _, b = fp.partition("/")
    return int(a, 16), int(b or a, 16)


def distance(a: str, b: str) -> int:
    """Differing bits between two fingerprints, the mirror counted as the same picture."""
    a0, _ = _parts(a)
    b0, b1 = _parts(b)
    return min((a0 ^ b0).bit_count(), (a0 ^ b1).bit_count())


def valid(fp: str) -> bool:
    """A well-formed fingerprint (as stored, or as a newer engine sends it)."""
    try:
        _parts(fp)
    except ValueError:
        return False
    return bool(fp)


def same_picture(a: str, b: str) -> bool:
    return valid(a) and valid(b) and distance(a, b) <= NEAR_BITS
