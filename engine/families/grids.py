"""The formats math every family's table uses (engine/formats.py has the words).

A family's formats (``Family.grid()``) are its trained (width, height) buckets, or
(side of the square it was trained at, the multiple sides must be): the size for a
format is the nearest bucket, or of the sizes on the grid within
:data:`AREA_TOLERANCE` of the trained pixel count the one whose ratio is nearest
(then the one nearest in area).
"""

from __future__ import annotations

import math
from functools import cache

from sitter.contract import Aspect

RATIOS: dict[Aspect, tuple[int, int]] = {
    Aspect.SQUARE: (1, 1),
    Aspect.PORTRAIT: (4, 5),
    Aspect.STORY: (9, 16),
    Aspect.LANDSCAPE: (16, 9),
}
# SDXL paper, appendix I: the published subset of its training buckets (width x height).
SDXL_BUCKETS: tuple[tuple[int, int], ...] = (
    (1024, 1024),
    (1152, 896),
    (896, 1152),
    (1216, 832),
    (832, 1216),
    (1344, 768),
    (768, 1344),
    (1536, 640),
    (640, 1536),
)
# A family's formats (``Family.grid()``): a tuple of trained (width, height) buckets, or
# (side of the square it was trained at, the multiple sides must be).
Grid = tuple[int, int] | tuple[tuple[int, int], ...]
AREA_TOLERANCE = 0.2  # sizes within +-20 % of the trained pixel count


def _ratio_error(width: int, height: int, aspect: Aspect) -> float:
    w, h = RATIOS[aspect]
    return abs(math.log((width / height) / (w / h)))


def _on_grid(side: int, multiple: int, aspect: Aspect) -> tuple[int, int]:
    target = side * side
    best: tuple[float, float, int, int] | None = None
    low, high = target * (1 - AREA_TOLERANCE), target * (1 + AREA_TOLERANCE)
    for width in range(multiple, 4 * side + 1, multiple):
        for height in range(multiple, 4 * side + 1, multiple):
            if not low <= width * height <= high:
                continue
            key = (
                round(_ratio_error(width, height, aspect), 9),
                abs(math.log(width * height / target)),
                width,
                height,
            )
            if best is None or key < best:
                best = key
    assert best is not None
    return best[2], best[3]


@cache
def size_on(grid: Grid, aspect: Aspect) -> tuple[int, int]:
    """(width, height) for ``aspect`` on a family's grid: the nearest trained bucket,
    or the best size on the grid around its trained pixel count."""
    if isinstance(grid[0], tuple):
        buckets: tuple[tuple[int, int], ...] = grid
        return min(buckets, key=lambda wh: (_ratio_error(wh[0], wh[1], aspect), -wh[0] * wh[1]))
    side, multiple = grid
    return _on_grid(side, multiple, aspect)
