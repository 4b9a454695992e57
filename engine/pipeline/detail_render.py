"""Rendering for the face detail pass (engine/pipeline/detail.py): the crops, up close.

- SDXL / SD 1.5: img2img at the configured strength through a pipeline made from
  the loaded components with ``from_pipe`` (no second copy of the weights), with
  the order's prompt and the same identity-adapter inputs as the order
  (``identity_kwargs``); all the crops of one attempt in one batched call.
- FLUX.2 [klein]: a reference edit of the crop with ``Flux2KleinInpaintPipeline``
  (also ``from_pipe``): the crop is the input image the edit starts from (noised
  to the strength) and a condition, the order's prepared reference photos are
  the other input images, the mask is the whole crop (the feathered blend is
  done afterwards, the same way for every family). One call per crop: the
  pipeline reads a batch of references as one reference per image when their
  counts match, so crops are not batched.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from engine.pipeline.identity_input import identity_kwargs

if TYPE_CHECKING:
    from engine.pipeline.generate import Resolved
    from engine.pipeline.loader import LoadedPipeline

_SEED_SALT = 0x5EED_FACE  # detail seeds differ from every render seed of the order
_SEED_SPACE = 2**32
KLEIN_MAX_INPUTS = 4  # FLUX.2 [klein] is trained for up to 4 input images: the crop + 3


def detail_seed(seed: int) -> int:
    return (seed ^ _SEED_SALT) % _SEED_SPACE


def detail_pipe(loaded: LoadedPipeline) -> Any:
    """The img2img pipeline over the loaded components (made once, kept with them).

    ``from_pipe`` shares every module; its ``dtype`` must be the loaded one, or
    diffusers casts the shared modules to float32 in place.
    """
    pipe = loaded.extra.get("detail_pipe")
    if pipe is None:
        from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionXLImg2ImgPipeline

        cls = (
            StableDiffusionXLImg2ImgPipeline
            if loaded.family == "sdxl"
            else StableDiffusionImg2ImgPipeline
        )
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
) -> list[Image.Image]:
    """One batched img2img call over the face crops, at the model's native square size."""
    import torch

    from engine.pipeline.generate import Cancelled
    from engine.pipeline.speed import choose_path

    base = loaded.pipe
    params = choose_path(base, params)  # the scheduler the order was rendered with
    pipe = detail_pipe(loaded)
    pipe.scheduler = base.scheduler
    side = min(loaded.defaults.width, loaded.defaults.height)
    images = [c.convert("RGB").resize((side, side), Image.Resampling.LANCZOS) for c in crops_in]
    cfg = params.guidance > 1.0
    steps = max(params.steps, math.ceil(1 / strength))  # img2img runs int(steps * strength)

    def check_cancel(_pipe: Any, _step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if cancel is not None and cancel.is_set():
            raise Cancelled("face detail cancelled")
        return kwargs

    base.set_ip_adapter_scale(params.identity_scale)
    with torch.inference_mode():
        identity = identity_kwargs(loaded, refs, id_crops, cfg=cfg, batch=len(images))
        out = pipe(
            prompt=prompt,
            negative_prompt=negative_prompt or None,
            image=images,
            strength=strength,
            num_images_per_prompt=len(images),
            generator=[torch.Generator("cpu").manual_seed(detail_seed(s)) for s in seeds],
            num_inference_steps=steps,
            guidance_scale=params.guidance,
            width=side,
            height=side,
            **identity,
            callback_on_step_end=check_cancel,
            output_type="pil",
        )
    return list(out.images)
