"""The same picture, judged by its face, for the bot (no numpy, no engine).

The bot keeps the engine's aligned face crop of every reference photo. A copy of a
photo that was cropped, turned a few degrees, framed with a border or retouched has the
same aligned face (the landmarks put it upright at one size), while the whole frame's
hash (sitter/fingerprint.py) moves by 12-24 bits (issue 22). The small print here is the
middle of the crop, band-passed (Pillow's blurs: light, gamma and JPEG noise fall away),
PRINT_SIDE px square with a one-pixel margin; two prints are compared by normalised
correlation at every one-pixel shift and mirrored, in plain Python. The engine's
likeness gate uses the finer numpy print of engine/near_duplicate.py.

Measured on ../shared/faces (30 photos of 9 people, dlib crops of photos up to
1200 px; benchmarks/calibrate_same_picture.py prints both prints): distinct photos of
one person correlate 0.776 at most (0.73 the next), copies (crop 18%, rotate 9°,
gamma + crop 15%, border + shift, blur radius 2, mirror + JPEG q20, JPEG q30, half size)
0.789 at least, 0.81 but for one. The bar sits between.
"""

from __future__ import annotations

import io
import math
from array import array

from PIL import Image, ImageFilter, ImageMath

PRINT_SIDE = 24
PRINT_INNER = 0.6  # the face itself: not the hair, background or a crop's black fill
PRINT_BLUR = (1.0, 4.0)  # at 4 x PRINT_SIDE px, before the print is shrunk
PRINT_SHIFT = 1
FACE_BAR = 0.78

Print = tuple[int, list[float]]  # (side with margin, values row by row)


def face_print(crop: bytes | Image.Image | None) -> Print | None:
    """The print of an aligned face crop (PNG bytes or an image); None without one."""
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
    big = grey.crop((mx, my, w - mx, h - my)).resize((4 * side, 4 * side), Image.Resampling.BOX)
    fine = big.filter(ImageFilter.GaussianBlur(PRINT_BLUR[0])).convert("F")
    coarse = big.filter(ImageFilter.GaussianBlur(PRINT_BLUR[1])).convert("F")
    band = ImageMath.lambda_eval(lambda a: a["fine"] - a["coarse"], fine=fine, coarse=coarse)
    assert isinstance(band, Image.Image)
    small = band.resize((side, side), Image.Resampling.BOX)
    return side, list(array("f", small.tobytes()))


def _window(p: Print, dx: int, dy: int, mirror: bool) -> list[float]:
    side, values = p
    r, n = PRINT_SHIFT, PRINT_SIDE
    out = []
    for y in range(r + dy, r + dy + n):
        row = values[y * side : (y + 1) * side]
        if mirror:
            row = row[::-1]
        out.extend(row[r + dx : r + dx + n])
    return out


def _standard(v: list[float]) -> list[float]:
    mean = sum(v) / len(v)
    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / len(v)) + 1e-6
    return [(x - mean) / sd for x in v]


def similarity(a: Print, b: Print) -> float:
    """The best normalised correlation of ``a``'s middle with ``b`` shifted by up to
    PRINT_SHIFT px, or with ``b``'s mirror image."""
    if a[0] != b[0] or a[0] != PRINT_SIDE + 2 * PRINT_SHIFT:
        return -1.0
    middle = _standard(_window(a, 0, 0, False))
    n = len(middle)
    best = -1.0
    shifts = range(-PRINT_SHIFT, PRINT_SHIFT + 1)
    for mirror in (False, True):
        for dy in shifts:
            for dx in shifts:
                other = _standard(_window(b, dx, dy, mirror))
                best = max(best, sum(x * y for x, y in zip(middle, other, strict=True)) / n)
    return best


def same_face_picture(a: Print | None, b: Print | None) -> bool:
    """Two prints of one picture (edited or not); never true without both."""
    return a is not None and b is not None and similarity(a, b) >= FACE_BAR
