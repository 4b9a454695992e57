"""Image-to-image from one portrait: the render behind vary and relight (engine/refine.py).

:func:`render_from` has the keywords of :func:`engine.pipeline.generate.render`, so
the generation loop (score, face detail, safety, re-render the failures) runs it in
place of text-to-image; only the start differs, the portrait noised to ``strength``:

- SDXL / SD 1.5: the img2img pipeline made from the loaded components with
  ``from_pipe`` (the face detail pass's, :func:`engine.pipeline.detail_render.detail_pipe`:
  no weights load twice), the order's prompt and the SAME identity-adapter inputs as
  generation (:func:`engine.pipeline.identity_input.identity_kwargs`), all seeds in
  one batched call.
- FLUX.2 [klein]: ``Flux2KleinInpaintPipeline`` (also ``from_pipe``) with the mask
  over the whole image, which is klein's image-to-image: the portrait is the start
  image (noised to ``strength``) and the first condition image, the order's prepared
  reference photos the others (at most 4 inputs in all). One call per seed, as in
  the detail pass: the pipeline reads a batch of references as one per image when
  their count equals the batch.

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

from engine import progress
from engine.pipeline.detail_render import KLEIN_MAX_INPUTS, detail_pipe, img2img_setup
from engine.pipeline.identity_input import clear_identity, identity_kwargs
from sitter.contract import MAX_STEPS, RefineMode, RefineStrength

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
) -> list[Image.Image]:
    """One image per seed, each ``start`` re-rendered at ``strength`` (bind ``start``
    and ``strength`` with functools.partial to pass it as generate's ``draw``).
    ``ref_latents`` is accepted for generate's signature; the edit encodes its own."""
    import torch

    from engine.pipeline.loaded import Cancelled

    def check_cancel(_pipe: Any, _step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if cancel is not None and cancel.is_set():
            raise Cancelled("refine cancelled")
        progress.on_step_end(_pipe, _step, params.steps)  # engine/progress.py, for the bot
        return kwargs

    image = fit_start(start, params.width, params.height)
    if loaded.family == "klein":
        return _klein(loaded, image, strength, prompt, params, seeds, ref_images, check_cancel)
    pipe, params, text, cfg = img2img_setup(loaded, params, prompt, negative_prompt)
    try:
        with torch.inference_mode():
            identity = identity_kwargs(loaded, refs, crops, cfg=cfg, batch=len(seeds))
            out = pipe(
                **text,
                image=image,
                strength=strength,
                num_images_per_prompt=len(seeds),
                generator=[torch.Generator("cpu").manual_seed(int(s)) for s in seeds],
                num_inference_steps=refine_steps(params.steps, strength),
                guidance_scale=params.guidance,
                **identity,
                callback_on_step_end=check_cancel,
                output_type="pil",
            )
    finally:
        clear_identity(loaded)  # the person's crop features leave the shared pipeline
    return list(out.images)


def _klein(
    loaded: LoadedPipeline,
    image: Image.Image,
    strength: float,
    prompt: str,
    params: Resolved,
    seeds: Sequence[int],
    ref_images: Sequence[Image.Image],
    on_step: Any,
) -> list[Image.Image]:
    """FLUX.2 [klein]: the portrait edited beside the order's reference photos."""
    import torch

    from engine.pipeline.klein import text_limits

    pipe = detail_pipe(loaded)
    limits = text_limits(loaded.pipe)
    references = list(ref_images)[: KLEIN_MAX_INPUTS - 1] or None
    whole = Image.new("L", image.size, 255)  # repaint everything: image-to-image
    out = []
    with torch.inference_mode():
        for seed in seeds:
            res = pipe(
                prompt=prompt,
                image=image,
                image_reference=references,
                mask_image=whole,
                strength=strength,
                num_inference_steps=refine_steps(params.steps, strength),
                guidance_scale=params.guidance,
                width=image.width,
                height=image.height,
                generator=torch.Generator("cpu").manual_seed(int(seed)),
                max_sequence_length=limits.max_sequence_length,
                text_encoder_out_layers=limits.out_layers,
                callback_on_step_end=on_step,
                output_type="pil",
            )
            out.append(res.images[0])
    return out
