"""Rendering for the face detail pass (engine/pipeline/detail.py): the crops, up close.

Each family re-renders the crops its own way (``Family.render_crops``,
engine/families/): SDXL / SD 1.5 with img2img at the configured strength through a
pipeline made from the loaded components with ``from_pipe`` (no second copy of the
weights) and the order's identity-adapter inputs, all the crops in one batched call;
a reference family edits each crop beside the order's prepared reference photos. The
feathered blend is done afterwards, the same way for every family.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from engine import progress

if TYPE_CHECKING:
    from engine.pipeline.loaded import LoadedPipeline, Resolved

_SEED_SALT = 0x5EED_FACE  # detail seeds differ from every render seed of the order
_SEED_SPACE = 2**32


def detail_seed(seed: int) -> int:
    return (seed ^ _SEED_SALT) % _SEED_SPACE


def detail_pipe(loaded: LoadedPipeline) -> Any:
    """The family's image-to-image pipeline over the loaded components (made once, kept
    with them). ``from_pipe`` shares every module; its ``dtype`` must be the loaded one,
    or diffusers casts the shared modules to float32 in place.
    """
    pipe = loaded.extra.get("detail_pipe")
    if pipe is None:
        import diffusers

        cls = getattr(diffusers, loaded.model_family.img2img_class)
        pipe = cls.from_pipe(loaded.pipe, dtype=loaded.opts.dtype)
        pipe.set_progress_bar_config(disable=True)
        loaded.extra["detail_pipe"] = pipe
    return pipe


def render_crops(
    loaded: LoadedPipeline,
    crops_in: Sequence[Image.Image],
    seeds: Sequence[int],
    *,
    prompt: str,
    negative_prompt: str,
    params: Resolved,
    strength: float,
    refs: np.ndarray,
    id_crops: Sequence[Image.Image],
    cancel: threading.Event | None = None,
    ref_images: Sequence[Image.Image] = (),
    ref_latents: Any = None,
) -> list[Image.Image]:
    """The face crops rendered again at the model's native square size, in order.

    ``refs`` / ``id_crops``: the identity adapter's inputs (SDXL, SD 1.5);
    ``ref_images`` / ``ref_latents``: a reference family's prepared photos (and the
    order's cache of their latents).
    """
    from engine.families.base import Draw, step_callback

    side = min(loaded.defaults.width, loaded.defaults.height)
    images = [c.convert("RGB").resize((side, side), Image.Resampling.LANCZOS) for c in crops_in]
    steps = max(params.steps, math.ceil(1 / strength))  # img2img runs int(steps * strength)
    progress.stage("detail")
    draw = Draw(
        prompt=prompt,
        negative_prompt=negative_prompt,
        params=params,
        seeds=[detail_seed(s) for s in seeds],
        refs=refs,
        crops=id_crops,
        ref_images=ref_images,
        ref_latents=ref_latents,
    )
    on_step = step_callback(cancel, steps, "face detail")
    return loaded.model_family.render_crops(loaded, draw, images, strength, steps, on_step)
