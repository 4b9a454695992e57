"""What one order hands a family's renders (:class:`OrderInputs`, :class:`Draw`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from engine.pipeline.loaded import Resolved
    from sitter import contract as c


@dataclass
class OrderInputs:
    """What one order gives the family's renders beside the prompt: the prompt worded
    for this family, and the person's prepared reference photos where the family takes
    them (with their encoded latents, kept across the order's re-renders)."""

    prompt: str
    ref_images: list[Image.Image] = field(default_factory=list)
    ref_latents: Any = None
    ref_counts: tuple[int, ...] = ()  # two people: how many of ``ref_images`` are whose


@dataclass(frozen=True)
class Draw:
    """One batched render's inputs, whatever the family does with them.

    ``refs`` / ``crops``: the identity adapter's inputs (face vectors, aligned crops);
    ``ref_images`` / ``ref_latents``: a reference family's prepared photos."""

    prompt: str
    negative_prompt: str
    params: Resolved
    seeds: Sequence[int]
    refs: np.ndarray
    crops: Sequence[Image.Image] = ()
    ref_images: Sequence[Image.Image] = ()
    ref_latents: Any = None
    # A portrait of two people: the second person's adapter crops (``crops`` are the
    # first's) and where the two stand (a reference family has both in ``ref_images``).
    partner_crops: Sequence[Image.Image] = ()
    placement: c.Placement | None = None
    ref_counts: tuple[int, ...] = ()  # how many of ``ref_images`` are each person's
