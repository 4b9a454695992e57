"""Image-to-image from one portrait: the render behind vary and relight (engine/refine.py).

:func:`render_from` has the keywords of :func:`engine.pipeline.generate.render`, so
the generation loop (score, face detail, safety, re-render the failures) runs it in
place of text-to-image; only the start differs, the portrait noised to ``strength``:

each family does it its own way (``Family.render_from``, engine/families/): SDXL /
SD 1.5 with the img2img pipeline made from the loaded components with ``from_pipe``
(no weights load twice) and the SAME identity-adapter inputs as generation; a
reference family edits the portrait beside the order's prepared reference photos.

Strength is the share of the noise schedule re-run (diffusers' img2img ``strength``):
0 returns the portrait, 1 ignores it. The pipelines run ``int(steps * strength)``
steps, so the nominal count is raised to ``steps / strength`` and the portrait gets
as many denoising steps as the order had (``refine_steps``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from sitter.contract import MAX_STEPS, Placement, RefineMode, RefineStrength

if TYPE_CHECKING:
    from engine.pipeline.loaded import LoadedPipeline, Resolved

# Image-to-image strength per mode and strength. Vary: 0.35 keeps the pose, framing
# and colours and redraws the detail; 0.65 keeps the composition and little else.
# Relight is held low so the face and the picture stay while the light changes
# (0.3; 0.45 for a stronger change of light, at more risk to the likeness).
STRENGTHS: dict[tuple[RefineMode, RefineStrength], float] = {
    (RefineMode.VARY, RefineStrength.SUBTLE): 0.35,
    (RefineMode.VARY, RefineStrength.STRONG): 0.65,
    (RefineMode.RELIGHT, RefineStrength.SUBTLE): 0.3,
    (RefineMode.RELIGHT, RefineStrength.STRONG): 0.45,
}


def refine_steps(steps: int, strength: float) -> int:
    """The nominal step count that runs about ``steps`` steps at ``strength``."""
    return min(MAX_STEPS, max(steps, math.ceil(steps / strength)))


def fit_start(portrait: Image.Image, width: int, height: int) -> Image.Image:
    """The portrait as the start image at the render's size (RGB)."""
    image = portrait.convert("RGB")
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    return image


def render_from(
    loaded: LoadedPipeline,
    *,
    start: Image.Image,
    strength: float,
    prompt: str,
    negative_prompt: str,
    params: Resolved,
    seeds: Sequence[int],
    refs: np.ndarray,
    crops: Sequence[Image.Image] = (),
    cancel: threading.Event | None = None,
    ref_images: Sequence[Image.Image] = (),
    ref_latents: Any = None,
    partner_crops: Sequence[Image.Image] = (),
    placement: Placement | None = None,
    ref_counts: tuple[int, ...] = (),
) -> list[Image.Image]:
    """One image per seed, each ``start`` re-rendered at ``strength`` by the model's
    family (bind ``start`` and ``strength`` with functools.partial to pass it as
    generate's ``draw``). ``ref_latents``: the order's cache of its photos' latents; the
    rest: a portrait of two people, as :func:`engine.pipeline.generate.render`'s."""
    from engine.families.base import Draw, step_callback

    draw = Draw(
        prompt=prompt,
        negative_prompt=negative_prompt,
        params=params,
        seeds=seeds,
        refs=refs,
        crops=crops,
        ref_images=ref_images,
        ref_latents=ref_latents,
        partner_crops=partner_crops,
        placement=placement,
        ref_counts=ref_counts,
    )
    image = fit_start(start, params.width, params.height)
    on_step = step_callback(cancel, params.steps, "refine")
    return loaded.model_family.render_from(loaded, draw, image, strength, on_step)
