"""Four variations of one order: the single production generation path.

``generate(runtime, request)`` is what the worker, ``sitter generate`` and the
benchmark call. It renders every seed in ONE batched pipeline call (a list of
CPU ``torch.Generator``s, one per image, so an image depends only on its seed
and the order, not on the device's RNG), scores each output's likeness, and
re-renders only the variations that failed, with derived seeds, until they pass
or ``max_attempts`` is reached. The likeness gate (engine/gate.py) is built per
order from the person's references and the style's policy. Each variation keeps
its best attempt (accepted first, then a face that is not a copy, then the higher
score) and reports the seed that made it and why earlier attempts were redone.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from engine import progress
from engine.families.base import Draw, OrderInputs, step_callback
from engine.gate import PersonGate, rank
from engine.gate_pair import PairGate, check_two_faces, check_two_people
from engine.likeness import Likeness, reference_vectors
from engine.pets.render import PetOrder, pet_policy
from engine.pipeline.detail import Detailed, detail_pass
from engine.pipeline.identity_input import choose_crops, placeholder_crops
from engine.pipeline.loaded import Cancelled, LoadedPipeline, Resolved
from engine.pipeline.params import SEED_SPACE, resolve_params, retry_seed
from engine.pipeline.personal import PersonalLora, on_gpu, personal_model
from sitter.contract import (
    FaceDetail,
    GenerateRequest,
    GenerateResult,
    Placement,
    Subject,
    Variation,
    Verdict,
)

if TYPE_CHECKING:
    from engine.parts import Models

__all__ = [
    "SEED_SPACE",
    "Cancelled",
    "Resolved",
    "generate",
    "render",
    "resolve_params",
    "retry_seed",
    "warm_up",
]

log = logging.getLogger(__name__)


def render(
    loaded: LoadedPipeline,
    *,
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
    """One batched render by the model's family: one image per seed. ``refs`` /
    ``crops``: the identity adapter's inputs (engine.pipeline.identity_input.choose_crops);
    ``ref_images`` / ``ref_latents``: a reference family's prepared photos (both people's,
    in order, for two: ``ref_counts`` each); ``partner_crops`` / ``placement``: the second
    person's adapter crops and where the two stand (a portrait of two people)."""
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
    return loaded.model_family.render(
        loaded, draw, step_callback(cancel, params.steps, "generation")
    )


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class _Slot:
    seed: int  # the request's seed
    attempts: int = 0
    best_image: Image.Image | None = None
    best_seed: int = 0
    best: Likeness | None = None
    rejected: list[Verdict] = field(default_factory=list)  # why each attempt was rendered again
    best_detail: FaceDetail | None = None

    def offer(
        self, image: Image.Image, seed: int, likeness: Likeness, detail: FaceDetail | None = None
    ) -> None:
        if not likeness.passed:
            self.rejected.append(likeness.verdict or _plain_verdict(likeness))
        if self.best is None or rank(likeness) > rank(self.best):
            self.best_image, self.best_seed, self.best = image, seed, likeness
            self.best_detail = detail


def _plain_verdict(lk: Likeness) -> Verdict:
    if lk.passed:
        return Verdict.PASSED
    return Verdict.NOT_ALIKE if lk.face_found else Verdict.NO_FACE


@dataclass
class _Order:
    """One order checked against this worker's models: what every attempt renders with."""

    req: GenerateRequest
    loaded: LoadedPipeline
    gate: PersonGate | PairGate
    params: Resolved
    refs: np.ndarray  # the identity adapter's face vectors
    crops: list[Image.Image]  # and aligned crops
    inputs: OrderInputs  # the family's prompt and prepared photos
    partner_crops: list[Image.Image] = field(default_factory=list)  # the second person's
    lora: PersonalLora | None = None  # the person's own model, on while rendering
    pet: PetOrder | None = None  # a cat's or a dog's portrait: its colour check

    @property
    def judge(self) -> Callable[[Image.Image], Likeness]:
        return self.pet.judge if self.pet is not None else self.gate.judge

    @classmethod
    def check(cls, runtime: Models, req: GenerateRequest) -> _Order:
        loaded = runtime.require_pipeline()
        if req.partner_references:
            check_two_people(req)  # a bad request whatever this worker renders
        if req.subject != Subject.PERSON and not loaded.model_family.renders_pets:
            from engine.job_errors import FailureCode, Permanent
            from engine.pets.words import NOT_RENDERED

            raise Permanent(FailureCode.NOT_SUPPORTED, NOT_RENDERED)
        analyzer = runtime.subject_analyzer(req.subject)
        if req.partner_references:
            check_two_faces(analyzer, req)  # not one person's two accounts
        pet = req.subject != Subject.PERSON  # the animal's embeddings: not an adapter's input
        refs = reference_vectors(req.references, analyzer.name, None if pet else loaded.id_dim)
        crops = choose_crops(req.references, refs)
        own = [r.face_crop for r in req.references]
        # The likeness gate for this person and this style (engine/gate.py); for two
        # people, each person's own gate and the assignment of faces (engine/gate_pair.py).
        gate: PersonGate | PairGate
        partner_crops: list[Image.Image] = []
        if req.partner_references:
            theirs = reference_vectors(req.partner_references, analyzer.name, loaded.id_dim)
            partner_crops = choose_crops(req.partner_references, theirs)
            gate = PairGate.build(
                analyzer, refs, theirs, own, [r.face_crop for r in req.partner_references], req.gate
            )
        else:
            # A pet's gate is held lenient until calibrated (engine/pets/render.py).
            policy = pet_policy(req.gate) if pet else req.gate
            gate = PersonGate.build(analyzer, refs, own, policy)
        params = resolve_params(loaded, req.params, req.aspect)
        # Before any GPU time: the prompt fits, the person's photos are ready (for a family
        # that takes them: their latents are encoded once per order, not per attempt).
        inputs = loaded.model_family.prepare(loaded, req)
        pet_order = PetOrder(gate, list(crops)) if pet and isinstance(gate, PersonGate) else None
        return cls(
            req, loaded, gate, params, refs, list(crops), inputs, partner_crops, pet=pet_order
        )


def _attempt(
    runtime: Models,
    order: _Order,
    slots: list[_Slot],
    pending: list[_Slot],
    attempt: int,
    safety: Any,
    cancel: threading.Event | None,
    draw: Callable[..., list[Image.Image]],
) -> None:
    """Render every pending slot in one batch; score; the face detail pass; offer each
    slot the version that would be delivered unless the safety check withholds it."""
    req, loaded, inputs = order.req, order.loaded, order.inputs
    seeds = [retry_seed(s.seed, attempt) for s in pending]
    # Two people: the second person's adapter crops and where the two stand.
    pair: dict[str, Any] = {}
    if req.partner_references:
        pair = {
            "partner_crops": order.partner_crops,
            "placement": req.placement,
            "ref_counts": inputs.ref_counts,
        }
    progress.begin("render", [slots.index(s) + 1 for s in pending], len(slots), attempt)
    with on_gpu(runtime, order.lora):
        images = draw(
            loaded,
            prompt=inputs.prompt,
            negative_prompt=req.negative_prompt,
            params=order.params,
            seeds=seeds,
            refs=order.refs,
            crops=order.crops,
            cancel=cancel,
            ref_images=inputs.ref_images,
            ref_latents=inputs.ref_latents,
            **pair,
        )
    scored = [(image, order.judge(image)) for image in images]
    if isinstance(order.gate, PairGate) or order.pet is not None:
        # two faces, or a pet: no one face to render again
        kept = [Detailed(image, likeness, None) for image, likeness in scored]
    else:  # the face detail pass (engine/pipeline/detail.py): keeps the better-scoring version
        kept = detail_pass(
            runtime,
            loaded,
            scored,
            seeds,
            judge=order.judge,
            prompt=inputs.prompt,
            negative_prompt=req.negative_prompt,
            params=order.params,
            refs=order.refs,
            id_crops=order.crops,
            cancel=cancel,
            ref_images=inputs.ref_images,
            ref_latents=inputs.ref_latents,
            lora=order.lora,
        )
    for slot, seed, k in zip(pending, seeds, kept, strict=True):
        slot.attempts = attempt
        # The safety check sees the version that would be delivered (detailed or not).
        if safety.withholds(slot, seed, k.image):
            continue  # over the safety threshold: rendered again with a new seed
        slot.offer(k.image, seed, k.likeness, k.report)
    passing = sum(bool(s.best and s.best.passed) for s in slots)
    progress.finished(passing)
    log.info(
        "%s attempt %d: %d/%d variations pass", req.generation_id, attempt, passing, len(slots)
    )


def _variation(slot: _Slot, png: bytes, safety: Any) -> Variation:
    assert slot.best is not None
    partner = slot.best.partner  # two people: the second person's likeness
    return Variation(
        seed=slot.best_seed,
        image=png,
        likeness=slot.best.score,
        face_found=slot.best.face_found,
        attempts=slot.attempts,
        passed=slot.best.passed,
        verdict=slot.best.verdict or _plain_verdict(slot.best),
        threshold=slot.best.threshold,
        regenerated_for=slot.rejected[: slot.attempts - 1],
        safety=safety.score_of(slot.best_seed),
        detail=slot.best_detail,
        partner_similarity=partner.score if partner else None,
        partner_threshold=partner.threshold if partner else None,
        colour=slot.best.colour,
    )


def generate(
    runtime: Models,
    req: GenerateRequest,
    cancel: threading.Event | None = None,
    *,
    draw: Callable[..., list[Image.Image]] | None = None,
    label: Callable[..., bytes] | None = None,
) -> GenerateResult:
    """Render, score, re-render the failures, label: the whole order.

    ``draw`` stands in for :func:`render` (same keywords) and ``label`` for
    ``runtime.mark_ai`` (same keywords): engine/refine.py renders from a portrait
    and labels each output with that portrait as its parent, through this same loop.
    """
    started = time.perf_counter()
    # 1. Check inputs against this worker's models.
    order = _Order.check(runtime, req)
    loaded = order.loaded
    # (seeds are within SEED_SPACE: the contract's Seed bound refuses others)
    slots = [_Slot(seed=s) for s in req.seeds]
    safety = runtime.safety_screen()  # engine/safety_check.py: what is over is never kept

    # 2. Render every pending slot in one batch; score; keep the best attempt. The
    # person's own model (engine/pipeline/personal.py) is loaded for these renders only.
    with personal_model(runtime, req.personal) as order.lora:
        for attempt in range(1, req.max_attempts + 1):
            pending = [s for s in slots if (s.best is None or not s.best.passed) and safety.open(s)]
            if not pending:
                break
            _attempt(runtime, order, slots, pending, attempt, safety, cancel, draw or render)

    # 3. Label (AI provenance on every file) and report.
    variations, withheld = [], []
    for slot in slots:
        if slot.best is None or slot.best_image is None:  # every attempt was over
            withheld.append(safety.withheld(slot, slot.seed, slot.attempts))
            continue
        png = (label or runtime.mark_ai)(
            png_bytes(slot.best_image), model=loaded.model, seed=slot.best_seed
        )
        variations.append(_variation(slot, png, safety))
    return GenerateResult(
        generation_id=req.generation_id,
        variations=variations,
        model=loaded.model,
        adapter=loaded.adapter.name,
        device=f"{loaded.device} ({loaded.opts.describe()})",
        seconds=round(time.perf_counter() - started, 3),
        withheld=withheld,
        personal_sha256=req.personal.sha256 if req.personal is not None else "",
    )


def warm_up(
    loaded: LoadedPipeline,
    sizes: list[tuple[int, int]] | None = None,
    batches: Sequence[int] = (4, 1),
) -> bool:
    """The worker's one warm-up, so the first order pays for no lazy init; True when it
    compiled at the production shapes, False when it made the plain 1-step render.

    torch.compile specialises on shapes: an order whose shape was never seen pays the
    compilation (minutes for SDXL with max-autotune). A compiled pipeline renders 2
    steps at each size (default: the model's default size) for a full order (4 seeds)
    and for a one-image retry (the second batch size makes dynamo generalise the batch
    dimension), on the path the worker serves (quality with CFG, or fast); a reference
    family with its full set of references, an order's shape. Otherwise one step at
    <= 256 px (with the fewest references the family renders with, often none).
    """
    d = loaded.defaults
    refs = np.ones((1, loaded.id_dim), dtype=np.float32)
    state = loaded.speed
    if state is None or not state.compiled:
        side = min(d.width, 256)
        params = Resolved(1, d.guidance, side, side, 0.0)
        render(
            loaded,
            prompt="a portrait",
            negative_prompt="",
            params=params,
            seeds=[0],
            refs=refs,
            crops=placeholder_crops(),
            ref_images=loaded.model_family.warm_up_inputs(loaded, full=False),
        )
        return False
    guidance = 0.0 if state.fast_path else d.guidance
    ref_images = loaded.model_family.warm_up_inputs(
        loaded, full=True
    )  # an order's shape, references too
    for width, height in sizes or [(d.width, d.height)]:
        for batch in batches:
            render(
                loaded,
                prompt="a portrait",
                negative_prompt="",
                params=Resolved(2, guidance, width, height, d.identity_scale),
                seeds=list(range(batch)),
                refs=refs,
                crops=placeholder_crops(),
                ref_images=ref_images,
            )
    return True
