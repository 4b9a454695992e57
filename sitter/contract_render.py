"""The generation job's messages: the order, its likeness gate, the variations, progress.

Part of the job contract (:mod:`sitter.contract`, which re-exports every name).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from sitter.contract_base import (
    MAX_PIXELS_SIDE,
    MAX_SECONDS,
    MAX_SIDE,
    MAX_STEPS,
    Message,
    Seed,
)
from sitter.contract_photos import (
    Embedding,
    ProtectedFace,
    Subject,
)
from sitter.contract_train import PersonalModel
from sitter.wire import Since


# --- generation ---------------------------------------------------------------------------
class GenerationParams(Message):
    steps: int | None = Field(None, ge=1, le=MAX_STEPS)
    guidance: float | None = Field(None, ge=0.0, le=30.0)
    width: int | None = Field(None, ge=64, le=MAX_SIDE)
    height: int | None = Field(None, ge=64, le=MAX_SIDE)
    identity_scale: float | None = Field(None, ge=0.0, le=2.0)


class StyleKind(StrEnum):
    """What a style's faces look like to a face model; the likeness gate is set per kind."""

    PHOTOGRAPHIC = "photographic"
    PAINTED = "painted"
    DRAWN = "drawn"


class GatePolicy(StrEnum):
    """How strictly a style's outputs are held to the person's likeness."""

    THRESHOLD = "threshold"  # no face, not alike or a copy: render again
    LENIENT = "lenient"  # only a copy or a clearly different face is rendered again
    OFF = "off"  # scored for information, never rendered again


class LikenessGate(Message):
    """A style's likeness policy (prompts/styles/*.toml ``[likeness]``)."""

    kind: StyleKind = StyleKind.PHOTOGRAPHIC
    policy: GatePolicy = GatePolicy.THRESHOLD
    reason: str = Field("", description="Why the policy is lenient or off (required then).")


class Verdict(StrEnum):
    """The likeness gate's verdict on one output; the bot words these for people."""

    PASSED = "passed"
    NO_FACE = "no_face"
    NOT_ALIKE = "not_alike"
    COPY = "copy"  # a near copy of one reference photo
    UNCHECKED = "unchecked"  # the style's gate is off (or lenient and no face was found)
    # A pet's portrait whose animal's colours drifted from the references' (contract 4):
    # the coat turned the breed's average. ``Variation.colour`` says by how much.
    COLOUR_DRIFT = "colour_drift"
    # Two-person orders (GenerateRequest.partner_references; contract 4). NOT_ALIKE and
    # COPY also serve there: one person's face below their own bar, or a copy of a photo.
    ONE_FACE = "one_face"  # fewer than two faces: a person is missing
    STRANGER = "stranger"  # two faces, but one of them matched neither person


class Placement(StrEnum):
    """How two people stand in a portrait together; the model family words it."""

    SIDE_BY_SIDE = "side_by_side"
    SHOULDER_TO_SHOULDER = "shoulder_to_shoulder"
    FACING = "facing"  # turned towards each other
    BACK_TO_BACK = "back_to_back"


class Reference(Message):
    """One accepted photo as the analysis left it. A pet's: the animal's embedding and crop."""

    embedding: Embedding
    face_crop: bytes | None = Field(
        None, description="The analysis' aligned face crop (a pet: the animal's crop), PNG."
    )
    # What the photo analysis measured (sharpness, brightness, face_px, yaw, ...):
    # reference-conditioned models (FLUX.2 [klein]) choose their best photos by it.
    quality: Annotated[dict[str, float], Since(2)] = Field(default_factory=dict)


class Aspect(StrEnum):
    """A picture format; engine/formats.py maps it to a size each model was trained on."""

    SQUARE = "1:1"  # avatars
    PORTRAIT = "4:5"  # feed posts
    STORY = "9:16"
    LANDSCAPE = "16:9"  # banners


class GenerateRequest(Message):
    generation_id: str = Field(description="Stable id; the queue's job id derives from it.")
    prompt: str
    # The same order worded for a model that sees the person's photos (FLUX.2
    # [klein]: "the person in the reference images as ..."); empty: use ``prompt``.
    reference_prompt: Annotated[str, Since(2)] = ""
    negative_prompt: str = ""
    style: str = ""
    params: GenerationParams = GenerationParams()
    seeds: list[Seed] = Field(min_length=1, max_length=8)
    references: list[Reference] = Field(min_length=1)
    max_attempts: int = Field(3, ge=1, le=10, description="Tries per variation for likeness.")
    gate: Annotated[LikenessGate, Since(2)] = LikenessGate()
    # Checked against the references before anything is painted (a face protected
    # after the order was queued); a match fails the job with code "protected".
    protected: Annotated[list[ProtectedFace], Since(2)] = Field(default_factory=list)
    # The format; None: the size of ``params`` (the style's) or the model's default. Set,
    # it wins over params.width/height: the size is the model's own for that ratio.
    aspect: Annotated[Aspect | None, Since(3)] = None
    # The person's own LoRA (sitter/contract_train.py): loaded for this order only and
    # unloaded after it; None: the base model alone, as before.
    personal: Annotated[PersonalModel | None, Since(4)] = None
    # Whose portrait: a person's, or one pet's (references are the animal's crops and
    # embeddings; the family words the prompt for the animal; colours are checked).
    subject: Annotated[Subject, Since(4)] = Subject.PERSON
    # A portrait of two people ("Together", issue 24): the second person's references
    # (checked, consented set; empty: one person as before) and how the two are placed
    # (None: the family's default, side by side). ``references`` stay the first person's;
    # in the picture the first person is on the left unless the placement says otherwise.
    partner_references: Annotated[list[Reference], Since(4)] = Field(default_factory=list)
    placement: Annotated[Placement | None, Since(4)] = None


class Progress(Message):
    """How far a running generation is (engine/progress.py), read by the bot while it waits.

    Kept in Redis under :func:`progress_key` with a short TTL and deleted when the job
    ends or is dropped; nothing personal in it. The variations of one pass render in
    one batch, so ``variations`` names all those being painted now (1-based).
    """

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)

    # detail: the face detail pass; train: a personal model's training (step of steps)
    stage: Literal["render", "detail", "train"] = "render"
    attempt: int = Field(1, ge=1, le=10, description="1: first render; 2+: re-renders.")
    variations: list[Annotated[int, Field(ge=1, le=8)]] = Field(default_factory=list, max_length=8)
    of: int = Field(0, ge=0, le=8, description="Variations in the order.")
    done: int = Field(0, ge=0, le=8, description="Variations finished (kept for good).")
    step: int = Field(0, ge=0, le=10_000)
    steps: int = Field(0, ge=0, le=10_000)
    seconds_left: Annotated[float | None, Since(4)] = Field(
        None, ge=0.0, le=MAX_SECONDS, description="The engine's estimate; None: unknown."
    )


def progress_key(prefix: str, job_id: str) -> str:
    return f"{prefix}:progress:{job_id}"


class FaceDetail(Message):
    """The face detail pass on a variation (engine/pipeline/detail.py): what ran, what it did."""

    reason: str = Field(description="Why it ran: 'small_face', 'near_gate' or 'always'.")
    strength: float = Field(ge=0.0, le=1.0, description="img2img strength of the face re-render.")
    crop: list[Annotated[int, Field(ge=-MAX_PIXELS_SIDE, le=MAX_PIXELS_SIDE)]] = Field(
        max_length=4, description="The square re-rendered: left, top, right, bottom."
    )
    likeness_before: float | None = Field(ge=0.0, le=1.0 + 1e-6)
    likeness_after: float | None = Field(
        ge=0.0, le=1.0 + 1e-6, description="None: no face found after the pass."
    )
    kept: bool = Field(description="True when the detailed version scored better and was kept.")
    seconds: float = Field(0.0, ge=0.0, le=MAX_SECONDS)


class ColourCheck(Message):
    """A pet portrait's colour check (engine/pets/colour.py): the animal region's colours
    against the references' (mean CIELAB distance, delta E 1976, and hue histograms)."""

    drift: float = Field(ge=0.0, le=1e3, description="Delta E of the mean Lab colours.")
    hue: float = Field(0.0, ge=0.0, le=1.0, description="Hue histogram distance, 0..1.")
    limit: float = Field(ge=0.0, le=1e3, description="The drift above which it is redone.")
    passed: bool
    reason: str = Field("", max_length=300, description="Why it drifted (for the log).")


class Variation(Message):
    seed: Seed
    image: bytes = Field(description="PNG with AI provenance metadata.")
    likeness: float | None = Field(
        ge=0.0, le=1.0 + 1e-6, description="Similarity to the references, 0..1."
    )
    face_found: bool
    attempts: int = Field(1, ge=1, le=10)
    passed: bool = Field(description="The likeness gate accepted it.")
    # Added with the per-person gate; results made before it parse with the defaults.
    verdict: Annotated[Verdict | None, Since(2)] = Field(
        None, description="Why it passed or failed; None: older."
    )
    threshold: Annotated[float | None, Since(2)] = Field(
        None, ge=0.0, le=1.0 + 1e-6, description="The likeness this person's output needed."
    )
    regenerated_for: Annotated[list[Verdict], Since(2)] = Field(
        default_factory=list, description="Why each earlier attempt was rendered again."
    )
    safety: Annotated[float | None, Since(2)] = Field(
        None, ge=0.0, le=1.0, description="Safety check score (open_nsfw), 0..1."
    )
    detail: Annotated[FaceDetail | None, Since(2)] = Field(
        None, description="The face detail pass; None: not run."
    )
    colour: Annotated[ColourCheck | None, Since(4)] = Field(
        None, description="A pet portrait's colour check; None: a person's, or not run."
    )
    # Two-person orders: ``likeness``/``threshold`` are the first person's (the
    # ``references``), these the second's (``partner_references``); None: one person.
    partner_similarity: Annotated[float | None, Since(4)] = Field(
        None, ge=0.0, le=1.0 + 1e-6, description="The second person's likeness, 0..1."
    )
    partner_threshold: Annotated[float | None, Since(4)] = Field(
        None, ge=0.0, le=1.0 + 1e-6, description="The likeness the second person needed."
    )


class Withheld(Message):
    """A variation the safety check withheld: never its image, only what the audit needs."""

    seed: Seed = Field(description="The request's seed for this variation.")
    attempts: int = Field(ge=1, le=10)
    safety: float | None = Field(ge=0.0, le=1.0, description="The lowest score of its attempts.")
    threshold: float = Field(ge=0.0, le=1.0)


class GenerateResult(Message):
    generation_id: str
    variations: list[Variation]
    model: str
    adapter: str
    device: str
    seconds: float = Field(ge=0.0, le=MAX_SECONDS)
    # A contract-1 bot is not told of withheld ones: it gets fewer portraits, never the image.
    withheld: Annotated[list[Withheld], Since(2)] = Field(default_factory=list, max_length=8)
    # The sha256 of the personal model the order was rendered with; "": none.
    personal_sha256: Annotated[str, Since(4)] = Field("", max_length=64)
