"""Picture formats (square, portrait, story, landscape) as sizes each model was trained on.

A model renders best at the sizes it was trained on, so an order's format (the
contract's :class:`~sitter.contract.Aspect`) is mapped per family (each family's
``grid()``, engine/families/):

- SDXL: the documented multi-aspect buckets of its paper (about 1 MP, multiples of
  64; the commonly published nine), the one nearest the ratio;
- SD 1.5: multiples of 64 around 512 x 512;
- FLUX.2 [klein] and Qwen-Image-Edit: multiples of 16 around 1 MP (the pipelines
  want multiples of ``vae_scale_factor * 2`` = 16);
- the tiny test models: multiples of 8 around 64 x 64.

"Around" means within :data:`AREA_TOLERANCE` of the family's pixel count; of
those sizes the one whose ratio is nearest wins (then the one nearest in area).
The table is computed once and printed by ``python -m engine.formats``.
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
# What a person calls them (chat buttons, ``--aspect``), beside the ratios themselves.
NAMES: dict[str, Aspect] = {
    "square": Aspect.SQUARE,
    "portrait": Aspect.PORTRAIT,
    "story": Aspect.STORY,
    "landscape": Aspect.LANDSCAPE,
    "banner": Aspect.LANDSCAPE,
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


def parse_aspect(text: str) -> Aspect:
    """``"4:5"``, ``"4x5"`` or ``"portrait"`` -> :class:`Aspect`; ValueError names the choices."""
    key = text.strip().lower().replace("x", ":").replace("/", ":").replace(" ", "")
    if key in NAMES:
        return NAMES[key]
    for aspect in Aspect:
        if key == aspect.value:
            return aspect
    choices = ", ".join(f"{a.value} ({n})" for n, a in NAMES.items() if n != "banner")
    raise ValueError(f"unknown format {text!r}: use {choices}")


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


def grids() -> dict[str, Grid]:
    """Each family's grid, and the tiny models' (one for all of them)."""
    from engine.families import FAMILIES
    from engine.families.base import TINY_GRID

    return {**{f.name: f.grid() for f in FAMILIES}, "tiny": TINY_GRID}


def size_for(family: str, aspect: Aspect) -> tuple[int, int]:
    """(width, height) for ``aspect`` on a model ``family`` (a family's code, or "tiny")."""
    found = grids().get(family)
    if found is None:
        raise ValueError(f"no formats for the model family {family!r}")
    return size_on(found, aspect)


def table() -> dict[str, dict[str, tuple[int, int]]]:
    """Every family's size for every format (README, tests, ``python -m engine.formats``)."""
    return {f: {a.value: size_on(g, a) for a in Aspect} for f, g in grids().items()}


if __name__ == "__main__":
    for family, sizes in table().items():
        cells = ", ".join(f"{a} {w}x{h}" for a, (w, h) in sizes.items())
        print(f"{family:9} {cells}")
