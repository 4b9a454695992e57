"""An order's size, steps and seeds: the family's defaults under the style's params
(:func:`resolve_params`) and the derived seeds of re-renders (:func:`retry_seed`)."""

from __future__ import annotations

from engine.families.base import TINY_MAX_STEPS
from engine.pipeline.loaded import LoadedPipeline, Resolved
from sitter.contract import Aspect, GenerationParams

SEED_SPACE = 2**32
_SEED_STEP = 0x9E3779B1  # a large odd step: retry seeds never collide with nearby seeds


def retry_seed(seed: int, attempt: int) -> int:
    """The seed for ``attempt`` (1 = the request's own seed); deterministic, so a
    repeated order regenerates exactly the same images."""
    return (seed + (attempt - 1) * _SEED_STEP) % SEED_SPACE if attempt > 1 else seed


def _fit(width: int, height: int, max_side: int, default_side: int) -> tuple[int, int]:
    """Styles are written for SDXL (1024 px): a family that cannot work that large gets
    the same aspect ratio at its own default size instead."""
    if max(width, height) <= max_side:
        return width, height
    f = default_side / max(width, height)
    return max(8, round(width * f / 8) * 8), max(8, round(height * f / 8) * 8)


def resolve_params(
    loaded: LoadedPipeline, params: GenerationParams, aspect: Aspect | None = None
) -> Resolved:
    """The family's defaults under the style's params; an ``aspect`` sets the size
    to the model's own for that format (engine/formats.py). The tiny test models also
    cap their steps, so a bot wired to one answers in seconds."""
    family = loaded.model_family
    d = loaded.defaults
    width = params.width or d.width
    height = params.height or d.height
    if width % 8 or height % 8:
        raise ValueError(f"width and height must be multiples of 8, got {width}x{height}")
    width, height = _fit(width, height, family.max_side(loaded.tiny), max(d.width, d.height))
    if aspect is not None:
        width, height = family.size_for(aspect, loaded.tiny)
    steps = params.steps or d.steps
    if loaded.tiny:
        steps = min(steps, TINY_MAX_STEPS)
    scale = d.identity_scale if params.identity_scale is None else params.identity_scale
    steps, guidance = family.steps_and_guidance(loaded, steps, params.guidance)
    return Resolved(steps, guidance, width, height, scale)
