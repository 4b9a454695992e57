"""Vary or relight one delivered portrait: the ``refine`` job (issue 15, items 4 and 5).

A follow-up order on one portrait of an earlier order. The request carries the
portrait's bytes and that order's prompt, params, style gate and references; this
module turns it into the earlier order's :class:`GenerateRequest` and runs it
through the one generation loop (engine/pipeline/generate.py) with two stand-ins:

- ``draw``: image-to-image from the portrait (engine/pipeline/img2img.py) at the
  mode's strength, with the same identity conditioning (the IP-Adapter inputs on
  SDXL / SD 1.5, the reference photos on FLUX.2 [klein]); so every output is scored
  by the same likeness gate, detailed, safety-checked and re-rendered with a derived
  seed when it fails, exactly as an order's;
- ``label``: the same AI labels as a generated portrait (IPTC XMP, the text note, a
  signed C2PA manifest), with the portrait as the manifest's parent ingredient and
  the edit recorded ("varied (subtle, image-to-image strength 0.35)"). The person's
  lighting words are not written into the file, as no prompt is.

Prompts. Vary keeps the order's own. Relight puts the lighting words first in the
SDXL prompt (the bot sends the order's prompt composed again with the new light
when it can, so no older light is left in it); FLUX.2 [klein] gets an edit
instruction that names the light and asks to keep the face and the picture.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING

from PIL import Image

from engine.job_errors import Permanent
from engine.pipeline.img2img import STRENGTHS, render_from
from sitter import contract as c

if TYPE_CHECKING:
    from engine.families.base import Family
    from engine.parts import Models

MAX_BYTES = 20 * 1024 * 1024  # a delivered PNG is a few MB at most
MAX_PIXELS = c.MAX_SIDE * c.MAX_SIDE  # what generation can make; an upscaled copy is refused
MIN_SIDE = 32  # under what any model paints (the tiny models' 9:16 is 48×88; real ones 720+)


def decode_portrait(data: bytes) -> Image.Image:
    """The portrait as RGB, or ``Permanent("bad_image")`` (not an image, too large)."""
    from engine.intake import PhotoRefused, decode_photo

    try:
        return decode_photo(
            data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, min_side=MIN_SIDE
        ).image
    except PhotoRefused as exc:
        raise Permanent(c.FailureCode.BAD_IMAGE, f"the portrait to refine: {exc.detail}") from None


def _side(n: int) -> int:
    return min(max(MIN_SIDE, n // 8 * 8), c.MAX_SIDE)


def prompts(req: c.RefineRequest, family: Family) -> tuple[str, str]:
    """(prompt, reference_prompt) for the order the portrait is refined through."""
    if req.mode == c.RefineMode.VARY:
        return req.prompt, req.reference_prompt
    light = " ".join(req.lighting.split())
    return family.relight_prompts(req.prompt, req.reference_prompt, light)


def as_order(req: c.RefineRequest, portrait: Image.Image, family: Family) -> c.GenerateRequest:
    """The earlier order, at the portrait's size, with this request's seeds and prompts."""
    prompt, reference_prompt = prompts(req, family)
    params = req.params.model_copy(
        update={"width": _side(portrait.width), "height": _side(portrait.height)}
    )
    return c.GenerateRequest(
        generation_id=req.generation_id,
        prompt=prompt,
        reference_prompt=reference_prompt,
        negative_prompt=req.negative_prompt,
        style=req.style,
        params=params,
        seeds=req.seeds,
        references=req.references,
        max_attempts=req.max_attempts,
        gate=req.gate,
        protected=req.protected,
        partner_references=req.partner_references,  # a portrait of two: gated for both
        placement=req.placement,
        personal=req.personal,  # the person's own model, as the order had it
        subject=req.subject,
    )


def edit_words(req: c.RefineRequest, strength: float) -> str:
    verb = "varied" if req.mode == c.RefineMode.VARY else "relit"
    return f"{verb} ({req.strength.value}, image-to-image strength {strength:.2f})"


def refine(
    runtime: Models, req: c.RefineRequest, cancel: threading.Event | None = None
) -> c.RefineResult:
    """Vary or relight ``req.image``: gated, labelled variations, as an order's."""
    from engine.pipeline.generate import generate
    from engine.provenance import add_provenance, signed_ai_info

    portrait = decode_portrait(req.image)  # before any model is asked for
    if req.protected:  # as for an order: a face protected since is never painted again
        from engine.identity import protected_references

        refs = [r.embedding for r in (*req.references, *req.partner_references)]
        if protected_references(runtime.require_analyzer(), refs, req.protected):
            why = "a reference photo shows a face that is protected"
            raise Permanent(c.FailureCode.PROTECTED, why)
    loaded = runtime.require_pipeline()
    strength = STRENGTHS[(req.mode, req.strength)]
    order = as_order(req, portrait, loaded.model_family)
    signer = runtime.require_signer()
    before = signed_ai_info(req.image, signer)  # the earlier edits, if Sitter signed them
    edits = (*(before.edits if before else ()), edit_words(req, strength))

    def label(png: bytes, *, model: str, seed: int) -> bytes:
        return add_provenance(
            png, model=model, seed=seed, signer=signer, edits=edits, parent=req.image
        )

    draw = partial(render_from, start=portrait, strength=strength)
    result = generate(runtime, order, cancel, draw=draw, label=label)
    return c.RefineResult(**dict(result), mode=req.mode, strength=strength)
