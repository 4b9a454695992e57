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

from engine import progress
from engine.pipeline.identity_input import clear_identity, identity_kwargs
from engine.pipeline.loaded import Cancelled
from engine.pipeline.speed import choose_path

if TYPE_CHECKING:
    from engine.pipeline.loaded import LoadedPipeline, Resolved

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
        import diffusers

        name = {
            "sdxl": "StableDiffusionXLImg2ImgPipeline",
            "sd15": "StableDiffusionImg2ImgPipeline",
            "klein": "Flux2KleinInpaintPipeline",
        }[loaded.family]
        pipe = getattr(diffusers, name).from_pipe(loaded.pipe, dtype=loaded.opts.dtype)
        pipe.set_progress_bar_config(disable=True)
        loaded.extra["detail_pipe"] = pipe
    return pipe


def img2img_setup(
    loaded: LoadedPipeline, params: Any, prompt: str, negative_prompt: str | None
) -> tuple[Any, Any, dict[str, Any], bool]:
    """The SDXL/SD 1.5 image-to-image pipeline as the order was rendered: the order's
    scheduler and path, its identity scale and its whole prompt encoded; shared by the
    face detail pass and vary/relight (engine/pipeline/img2img.py).
    Returns (pipe, params, text embeddings, classifier-free guidance on)."""
    base = loaded.pipe
    params = choose_path(loaded, params)  # the scheduler and path the order was rendered with
    pipe = detail_pipe(loaded)
    pipe.scheduler = base.scheduler
    cfg = params.guidance > 1.0
    base.set_ip_adapter_scale(params.identity_scale)
    from engine.pipeline import long_prompt  # the whole prompt, as the order was rendered

    return pipe, params, long_prompt.encode(pipe, prompt, negative_prompt or None, cfg=cfg), cfg


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
) -> list[Image.Image]:
    """The face crops rendered again at the model's native square size, in order.

    ``refs`` / ``id_crops``: the identity adapter's inputs (SDXL, SD 1.5);
    ``ref_images``: FLUX.2 [klein]'s prepared reference photos.
    """
    import torch

    side = min(loaded.defaults.width, loaded.defaults.height)
    images = [c.convert("RGB").resize((side, side), Image.Resampling.LANCZOS) for c in crops_in]
    steps = max(params.steps, math.ceil(1 / strength))  # img2img runs int(steps * strength)

    def check_cancel(_pipe: Any, _step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if cancel is not None and cancel.is_set():
            raise Cancelled("face detail cancelled")
        progress.on_step_end(_pipe, _step, steps)  # engine/progress.py, for the bot
        return kwargs

    progress.stage("detail")

    if loaded.family == "klein":
        return _klein_edit(
            loaded, images, seeds, prompt, params, strength, steps, ref_images, check_cancel
        )
    pipe, params, text, cfg = img2img_setup(loaded, params, prompt, negative_prompt)
    try:
        with torch.inference_mode():
            identity = identity_kwargs(loaded, refs, id_crops, cfg=cfg, batch=len(images))
            out = pipe(
                **text,
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
    finally:
        clear_identity(loaded)  # the person's crop features leave the shared pipeline
    return list(out.images)


def _klein_edit(
    loaded: LoadedPipeline,
    images: Sequence[Image.Image],
    seeds: Sequence[int],
    prompt: str,
    params: Resolved,
    strength: float,
    steps: int,
    ref_images: Sequence[Image.Image],
    on_step: Any,
) -> list[Image.Image]:
    """FLUX.2 [klein]: each crop edited with the order's references beside it."""
    import torch

    from engine.pipeline.klein import text_limits

    pipe = detail_pipe(loaded)
    limits = text_limits(loaded.pipe)
    references = list(ref_images)[: KLEIN_MAX_INPUTS - 1] or None
    side = images[0].width if images else 0
    whole = Image.new("L", (side, side), 255)
    out = []
    with torch.inference_mode():
        for image, seed in zip(images, seeds, strict=True):
            res = pipe(
                prompt=prompt,
                image=image,
                image_reference=references,
                mask_image=whole,
                strength=strength,
                num_inference_steps=steps,
                guidance_scale=params.guidance,
                width=side,
                height=side,
                generator=torch.Generator("cpu").manual_seed(detail_seed(seed)),
                max_sequence_length=limits.max_sequence_length,
                text_encoder_out_layers=limits.out_layers,
                callback_on_step_end=on_step,
                output_type="pil",
            )
            out.append(res.images[0])
    return out
