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
The math is engine/families/grids.py; each family says its grid; ``python -m
engine.formats`` prints the table.
"""

from __future__ import annotations

from engine.families.grids import (  # noqa: F401  (the table's data, read by tests)
    AREA_TOLERANCE,
    RATIOS,
    SDXL_BUCKETS,
    Grid,
    size_on,
)
from sitter.contract import Aspect

# What a person calls them (chat buttons, ``--aspect``), beside the ratios themselves.
NAMES: dict[str, Aspect] = {
    "square": Aspect.SQUARE,
    "portrait": Aspect.PORTRAIT,
    "story": Aspect.STORY,
    "landscape": Aspect.LANDSCAPE,
    "banner": Aspect.LANDSCAPE,
}


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


def grids() -> dict[str, Grid]:
    """Each family's formats, and the tiny models' (engine/families/)."""
    from engine import families

    return families.grids()


def size_for(family: str, aspect: Aspect) -> tuple[int, int]:
    """(width, height) for ``aspect`` on a model ``family`` (a family's code, or "tiny")."""
    found = grids().get(family)
    if found is None:
        raise ValueError(f"no formats for the model family {family!r}")
    return size_on(found, aspect)


def table() -> dict[str, dict[str, tuple[int, int]]]:
    """Every family's size for every format (README, tests)."""
    return {f: {a.value: size_on(g, a) for a in Aspect} for f, g in grids().items()}


if __name__ == "__main__":
    for family, sizes in table().items():
        cells = ", ".join(f"{a} {w}x{h}" for a, (w, h) in sizes.items())
        print(f"{family:9} {cells}")
