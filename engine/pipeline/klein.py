"""FLUX.2 [klein]: identity from the person's own photos, passed as ``image=[...]``.

No identity adapter: the model sees up to four reference images and the prompt
says what to make of "the person in the reference images". This module chooses
those references from the accepted photos (sharp, well exposed, the face large,
and varied in angle, using the quality values the photo analysis measured),
prepares them (the aligned face crop, padded to a square at the size the
model's VAE wants), checks that the prompt fits the text encoder, and renders.

Sizes: the pipeline resizes any reference above 1024x1024 pixels down and
crops to a multiple of 16 (``vae_scale_factor * 2``). Each 512 px reference
costs 1,024 tokens in every transformer step, so references are prepared at
512 px on the real model (four of them: 4,096 tokens beside the 4,096 of a
1024 px output) and at the output size on the tiny one.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageOps

from sitter.contract import FailureCode, Reference

if TYPE_CHECKING:
    from engine.pipeline.loaded import LoadedPipeline

MAX_REFERENCES = 4  # what FLUX.2 [klein] is trained for
# Each reference is 32x32 latent patches (1,024 tokens): 512 px with the real VAE
# (a multiple of vae_scale_factor * 2 = 16).
REFERENCE_PATCHES = 32
DEFAULT_MAX_SEQUENCE_LENGTH = 512  # Flux2KleinPipeline's default and the 4B model's
DEFAULT_OUT_LAYERS = (9, 18, 27)  # the pipeline's default: hidden states of Qwen3-4B
PAD_SHARE = 0.15  # margin around the aligned face crop, of its side


class PromptTooLong(ValueError):
    """The composed prompt has more tokens than the text encoder reads."""

    failure_code = FailureCode.PROMPT_TOO_LONG  # the job's answer (engine/job_errors.py)


@dataclass(frozen=True)
class TextLimits:
    max_sequence_length: int
    out_layers: tuple[int, ...]


def text_limits(pipe: Any) -> TextLimits:
    """The text encoder's token budget and the hidden-state layers the transformer expects.

    The transformer's ``joint_attention_dim`` is ``len(layers) * hidden_size``;
    the real model stacks layers 9, 18 and 27 (the pipeline's default). A text
    encoder with fewer layers (the tiny model) uses its last ones.
    """
    te = pipe.text_encoder.config
    hidden = int(te.hidden_size)
    count = int(pipe.transformer.config.joint_attention_dim) // hidden
    layers = int(te.num_hidden_layers)
    out: tuple[int, ...]
    if count == len(DEFAULT_OUT_LAYERS) and layers >= max(DEFAULT_OUT_LAYERS):
        out = DEFAULT_OUT_LAYERS
    else:
        out = tuple(range(layers - count + 1, layers + 1))
    positions = int(getattr(te, "max_position_embeddings", DEFAULT_MAX_SEQUENCE_LENGTH))
    return TextLimits(min(DEFAULT_MAX_SEQUENCE_LENGTH, positions), out)


def prompt_tokens(tokenizer: Any, prompt: str) -> int:
    """Tokens of ``prompt`` as the pipeline encodes it (Qwen3 chat template, no thinking)."""
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}],
        tokenize=False,
        add_generation_prompt=True,
        enable_thinking=False,
    )
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def check_prompt(loaded: LoadedPipeline, prompt: str) -> int:
    """The prompt's token count, or :class:`PromptTooLong` (the pipeline would cut it)."""
    limit = text_limits(loaded.pipe).max_sequence_length
    n = prompt_tokens(loaded.pipe.tokenizer, prompt)
    if n > limit:
        raise PromptTooLong(too_long_message(n, limit))
    return n


def too_long_message(tokens: int, limit: int) -> str:
    return (
        f"the description is too long for this model ({tokens} tokens, at most {limit}): "
        "shorten your own answers (attire, setting, lighting, composition) and order again"
    )


# --- choosing the references --------------------------------------------------------------
def _crop(ref: Reference) -> Image.Image | None:
    if not ref.face_crop:
        return None
    try:
        with Image.open(io.BytesIO(ref.face_crop)) as im:
            return im.convert("RGB")
    except Exception:
        return None


def _measured(crop: Image.Image) -> dict[str, float]:
    """Sharpness and brightness of a crop, for references sent without quality values."""
    import cv2

    grey = np.asarray(crop.convert("L").resize((128, 128)), dtype=np.float32)
    lap = cv2.Laplacian(grey, cv2.CV_32F, ksize=3)
    return {
        "sharpness": float(lap.var()) / max(float(grey.var()), 1.0),
        "brightness": float(grey.mean()),
    }


def _merit(q: dict[str, float]) -> float:
    """Higher is a better reference: sharp, well exposed, a large face."""
    sharp = math.log1p(max(q.get("sharpness", 0.0), 0.0))
    exposure = 1.0 - min(abs(q.get("brightness", 128.0) - 128.0) / 128.0, 1.0)
    clipped = min(q.get("clipped", 0.0) * 5.0, 1.0)
    size = min(q.get("face_px", 256.0) / 512.0, 1.0)
    return sharp + exposure - clipped + size


def _pose(q: dict[str, float]) -> tuple[float, float]:
    return q.get("yaw", 0.0), q.get("pitch", 0.0)


def choose_references(refs: Sequence[Reference], k: int = MAX_REFERENCES) -> list[int]:
    """Indexes of up to ``k`` references with a crop: the best one first, then each
    next one the best trade of merit and angle away from those already chosen."""
    usable: list[tuple[int, dict[str, float]]] = []
    for i, ref in enumerate(refs):
        crop = _crop(ref)
        if crop is None:
            continue
        q = dict(ref.quality) if ref.quality else {}
        if "sharpness" not in q or "brightness" not in q:
            q = {**_measured(crop), **q}
        usable.append((i, q))
    if not usable:
        return []
    merit = {i: _merit(q) for i, q in usable}
    pose = {i: _pose(q) for i, q in usable}
    chosen = [max(usable, key=lambda iq: (merit[iq[0]], -iq[0]))[0]]
    while len(chosen) < min(k, len(usable)):

        def value(i: int) -> float:
            spread = min(math.dist(pose[i], pose[j]) for j in chosen)
            return merit[i] + min(spread / 15.0, 1.0)  # 15 degrees apart counts in full

        rest = [i for i, _ in usable if i not in chosen]
        chosen.append(max(rest, key=lambda i: (value(i), -i)))
    return chosen


def prepare_reference(crop: Image.Image, side: int) -> Image.Image:
    """The aligned crop with a margin (edge colours), square, ``side`` px (a multiple of 16)."""
    side = max(64, side // 16 * 16)  # the pipeline refuses references under 64 px
    w, h = crop.size
    square = max(w, h)
    pad = round(square * PAD_SHARE)
    left, top = (square - w) // 2 + pad, (square - h) // 2 + pad
    right, bottom = square - w - (square - w) // 2 + pad, square - h - (square - h) // 2 + pad
    arr = np.pad(np.asarray(crop), ((top, bottom), (left, right), (0, 0)), mode="edge")
    framed = Image.fromarray(arr)
    return ImageOps.fit(framed, (side, side), Image.Resampling.LANCZOS)


def reference_side(loaded: LoadedPipeline) -> int:
    """The side in px each reference is prepared at for this model."""
    side = REFERENCE_PATCHES * int(loaded.pipe.vae_scale_factor) * 2
    if loaded.tiny:
        side = min(side, loaded.defaults.width)  # a second a render on a CPU
    return side


def reference_images(
    loaded: LoadedPipeline, refs: Sequence[Reference], k: int = MAX_REFERENCES
) -> list[Image.Image]:
    """Up to ``k`` chosen references, prepared for this model."""
    side = reference_side(loaded)
    images = []
    for i in choose_references(refs, k):
        crop = _crop(refs[i])
        assert crop is not None
        images.append(prepare_reference(crop, side))
    return images


# --- rendering ----------------------------------------------------------------------------------
class ReferenceLatents:
    """One order's references as VAE latents: encoded at its first render, reused by
    its re-renders (the likeness gate's retries). The pipeline encodes each reference
    once per call with ``sample_mode="argmax"`` (deterministic), so reuse is exact."""

    def __init__(self) -> None:
        self.images: tuple[int, ...] = ()
        self.latents: list[Any] = []
        self.encoded = 0  # VAE encoder calls made for this order

    def encoder(self, images: Sequence[Image.Image], encode: Callable[..., Any]) -> Any:
        """A stand-in for the pipeline's ``_encode_vae_image`` during one call."""
        key = tuple(id(im) for im in images)
        if key != self.images:  # other references: start again
            self.images, self.latents = key, []
        position = iter(range(len(images)))

        def cached(image: Any, generator: Any) -> Any:
            i = next(position)
            if i < len(self.latents):
                return self.latents[i]
            latent = encode(image=image, generator=generator)
            self.latents.append(latent)
            self.encoded += 1
            return latent

        return cached


def render(
    loaded: LoadedPipeline,
    *,
    prompt: str,
    params: Any,
    seeds: Sequence[int],
    images: Sequence[Image.Image],
    on_step: Callable[..., dict[str, Any]] | None = None,
    latents: ReferenceLatents | None = None,
) -> list[Image.Image]:
    """One batched call: one image per seed, all conditioned on the same references.

    ``on_step`` is the pipeline's ``callback_on_step_end`` (generate's cancel check);
    ``latents``: the order's encoded references, kept across its re-renders.
    """
    import torch

    limits = text_limits(loaded.pipe)
    generators = [torch.Generator("cpu").manual_seed(int(s)) for s in seeds]
    pipe = loaded.pipe
    if latents is not None and images:
        # An instance attribute shadows the method for this call only.
        own = type(pipe)._encode_vae_image.__get__(pipe)
        pipe._encode_vae_image = latents.encoder(images, own)
    try:
        with torch.inference_mode():
            out = pipe(
                image=list(images) or None,
                prompt=prompt,
                num_images_per_prompt=len(seeds),
                generator=generators,
                num_inference_steps=params.steps,
                guidance_scale=params.guidance,
                width=params.width,
                height=params.height,
                max_sequence_length=limits.max_sequence_length,
                text_encoder_out_layers=limits.out_layers,
                callback_on_step_end=on_step,
                output_type="pil",
            )
    finally:
        pipe.__dict__.pop("_encode_vae_image", None)
    return list(out.images)


def distilled_params(
    loaded: LoadedPipeline, steps: int, guidance: float | None
) -> tuple[int, float]:
    """Steps and guidance for klein. Styles are written for SDXL (30 steps, CFG 5-7):
    the step-distilled model (``is_distilled`` in model_index.json) takes its own 4
    steps and no guidance; the base model keeps what the style asks."""
    if getattr(loaded.pipe.config, "is_distilled", False):
        return loaded.defaults.steps, loaded.defaults.guidance
    return steps, loaded.defaults.guidance if guidance is None else guidance
