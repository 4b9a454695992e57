"""How two perceptual fingerprints compare: the same picture sent twice counts once.

The engine makes a fingerprint (engine/near_duplicate.py, the DCT hash of the picture
and of its mirror image, ``"<16 hex>/<16 hex>"``); it crosses the queue as text
(sitter/contract_photos.py) and the bot compares a new photo's with those of the set.
Pure Python: the bot compares fingerprints without numpy or the engine.
"""

from __future__ import annotations

# Bits (of 63) that may differ for two files to count as one picture. Measured with
# benchmarks/calibrate_near_duplicate.py on the 36 photos of ../shared/faces: copies
# differ by at most 6 bits (a quarter of the size and JPEG q15 together) or 8 (a 2%
# border trimmed); two different photos by at least 12 (two studio shots of one
# person against white), most pairs by 18 or more.
NEAR_BITS = 10


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
