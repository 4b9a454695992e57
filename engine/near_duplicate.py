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

A whole-frame hash misses a picture cropped, turned a few degrees or framed with a
border (issue 22: four such copies of one photo scored 12-24 bits). The **face print**
(:func:`face_print`) looks at the face itself instead: the middle of the aligned face
crop the engine makes for every photo (the face turned upright and scaled to the same
size by its landmarks, so cropping, rotating, shifting and borders fall away), in grey,
band-passed (the difference of two blurs: light, gamma and JPEG noise fall away too),
compared by normalised correlation with the mirror image counted
(:func:`face_print_similarity`). ``benchmarks/calibrate_same_picture.py`` measures it.
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

# The face print: the middle PRINT_INNER of the aligned crop (the face, not the hair,
# background or the black fill of a crop that runs off the picture), PRINT_SIDE px grey,
# its blur at PRINT_BLUR[0] minus its blur at PRINT_BLUR[1], kept with a PRINT_SHIFT px
# margin: two prints are compared at every shift up to PRINT_SHIFT px (a mirrored photo's
# aligned crop is not quite the mirror of the original's). Measured with
# benchmarks/calibrate_same_picture.py on ../shared/faces (30 photos of 9 people, dlib,
# photos up to 1200 px): distinct photos of one person correlate 0.849 at most (two
# studio shots against white, same pose), 0.80 the next; copies (crop 18%, rotate 9
# degrees, gamma + crop 15%, border + shift, blur radius 2, mirror + JPEG q20, JPEG q30,
# half size) 0.862 at least, 0.93 but for one. The bar sits between.
PRINT_SIDE = 64
PRINT_INNER = 0.6
PRINT_BLUR = (1.0, 4.0)
PRINT_SHIFT = 2
FACE_BAR = 0.855


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


def face_print(crop: Image.Image | bytes | None) -> np.ndarray | None:
    """The face print of an aligned face crop (PNG bytes or an image); None when there
    is no crop or it can't be read."""
    import io

    import numpy as np
    from PIL import ImageFilter

    if crop is None:
        return None
    if isinstance(crop, bytes):
        try:
            with Image.open(io.BytesIO(crop)) as im:
                crop = im.convert("L")
        except (OSError, ValueError):
            return None
    grey = crop.convert("L")
    side = PRINT_SIDE + 2 * PRINT_SHIFT
    inner = PRINT_INNER * side / PRINT_SIDE
    w, h = grey.size
    mx, my = round(w * (1 - inner) / 2), round(h * (1 - inner) / 2)
    window = grey.crop((mx, my, w - mx, h - my)).resize((side, side), Image.Resampling.BOX)
    fine = np.asarray(window.filter(ImageFilter.GaussianBlur(PRINT_BLUR[0])), np.float32)
    coarse = np.asarray(window.filter(ImageFilter.GaussianBlur(PRINT_BLUR[1])), np.float32)
    return fine - coarse


def _standard(a: np.ndarray) -> np.ndarray:
    return (a - a.mean()) / (a.std() + 1e-6)


def face_print_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The best normalised correlation of ``a``'s middle with ``b`` shifted up to
    PRINT_SHIFT px, or with ``b``'s mirror image."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    r, n = PRINT_SHIFT, PRINT_SIDE
    if a.shape != b.shape or a.shape[0] != n + 2 * r:
        return -1.0  # prints of another version: never the same picture
    middle = _standard(a[r : r + n, r : r + n]).ravel()
    best = -1.0
    for image in (b, b[:, ::-1]):
        windows = sliding_window_view(image, (n, n)).reshape(-1, n * n)  # every shift
        centred = windows - windows.mean(axis=1, keepdims=True)
        scores = centred @ middle / (np.sqrt((centred**2).mean(axis=1)) + 1e-6) / (n * n)
        best = max(best, float(scores.max()))
    return best


def same_face_picture(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Two face prints of one picture (edited or not); never true without both."""
    return a is not None and b is not None and face_print_similarity(a, b) >= FACE_BAR
