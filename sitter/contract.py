"""The job contract between the bot and the engine: the only thing both import.

Messages are pydantic models serialised with msgpack (bytes travel as bytes, no
base64). arq's serializer hooks use :func:`serialize` / :func:`deserialize`;
pickle is never accepted. A job function receives one ``dict`` and validates it
into its request model, so a payload that is not a contract message is refused
before any work is done.

Nothing here imports torch, numpy or a chat library.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

import msgpack
from pydantic import BaseModel, ConfigDict, Field

CONTRACT_VERSION = 1

# Bounds of the numbers in the contract: a request outside them is refused as
# bad_request before any work (negative steps used to crash as "internal").
MAX_STEPS = 150
MAX_SIDE = 2048  # generation width/height
MAX_PIXELS_SIDE = 65_536  # any image side reported back
MAX_SECONDS = 86_400.0
MAX_ID = 2**63 - 1
MAX_VECTOR = 4096  # embedding length (dlib 128, ArcFace 512)
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]

# --- job names and queues ----------------------------------------------------------
JOB_ANALYZE = "analyze_photo"
JOB_CHECK_SET = "check_set"
JOB_GENERATE = "generate"
JOB_UPSCALE = "upscale"
JOB_LABEL = "label"
JOB_CHECK_PROMPT = "check_prompt"  # does an order's prompt fit this worker's text encoder?

# Photo analysis is quick and must not wait behind a 30-step generation, so it
# has its own queue; a worker process serves both.
QUEUE_FAST = "fast"  # analysis, set checks, labels
QUEUE_GPU = "gpu"  # generation and upscaling


def queue_name(prefix: str, queue: str) -> str:
    return f"{prefix}:queue:{queue}"


def queue_for(job: str) -> str:
    return QUEUE_GPU if job in (JOB_GENERATE, JOB_UPSCALE) else QUEUE_FAST


class Message(BaseModel):
    # No NaN or infinity in any float field: every number below also has bounds.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --- photo analysis ---------------------------------------------------------------------
class PhotoProblem(StrEnum):
    """Why a reference photo was refused. The bot words these for people."""

    UNREADABLE = "unreadable"  # not an image, corrupt or truncated
    TOO_LARGE = "too_large"  # bytes or pixels over the limit (decompression bomb)
    UNSUPPORTED = "unsupported"  # a format or animation we refuse
    LOW_RESOLUTION = "low_resolution"
    NO_FACE = "no_face"
    SEVERAL_FACES = "several_faces"
    FACE_TOO_SMALL = "face_too_small"
    BLURRY = "blurry"
    TOO_DARK = "too_dark"
    OVEREXPOSED = "overexposed"
    EXTREME_ANGLE = "extreme_angle"
    DIFFERENT_PERSON = "different_person"
    PROTECTED = "protected"
    UNSAFE = "unsafe"  # over the output safety check's nudity threshold


class Issue(Message):
    problem: PhotoProblem
    detail: str = Field(description="One sentence for the user, e.g. 'I see 3 faces'.")
    values: dict[str, float | int | str] = Field(default_factory=dict, max_length=32)


class Embedding(Message):
    backend: str = Field(description="Which model made it, e.g. 'dlib' or 'insightface:buffalo_l'.")
    vector: list[Annotated[float, Field(ge=-1e6, le=1e6)]] = Field(max_length=MAX_VECTOR)


class ProtectedFace(Message):
    id: int = Field(ge=0, le=MAX_ID)
    embedding: Embedding


class AnalyzePhotoRequest(Message):
    photo: bytes
    filename: str = ""
    # The user's already accepted photos, to spot a different person.
    set_embeddings: list[Embedding] = Field(default_factory=list)
    protected: list[ProtectedFace] = Field(default_factory=list)


class AnalyzePhotoResult(Message):
    accepted: bool
    issues: list[Issue] = Field(default_factory=list)
    face_count: int = Field(0, ge=0, le=10_000)
    width: int = Field(0, ge=0, le=MAX_PIXELS_SIDE)
    height: int = Field(0, ge=0, le=MAX_PIXELS_SIDE)
    format: str = ""
    embedding: Embedding | None = None
    face_crop: bytes | None = Field(None, description="Aligned face crop, PNG.")
    protected_match: int | None = Field(None, ge=0, le=MAX_ID)
    quality: dict[str, Annotated[float, Field(ge=-1e9, le=1e9)]] = Field(
        default_factory=dict, max_length=32
    )


class CheckSetRequest(Message):
    embeddings: list[Embedding]
    # Faces protected since the photos were accepted: checked again before an order.
    protected: list[ProtectedFace] = Field(default_factory=list)


class ProtectedMatch(Message):
    index: int = Field(ge=0, le=10_000, description="Which embedding of the request.")
    protected_id: int = Field(ge=0, le=MAX_ID)


class CheckPromptRequest(Message):
    prompt: str
    reference_prompt: str = ""


class CheckPromptResult(Message):
    fits: bool
    family: str = Field("", description="sdxl, sd15, klein, or empty when not known here.")
    tokens: int | None = None
    limit: int | None = None
    message: str = ""


class CheckSetResult(Message):
    outliers: list[Annotated[int, Field(ge=0, le=10_000)]] = Field(
        description="Indexes of photos that look like someone else."
    )
    threshold: float = Field(ge=-1e6, le=1e6)
    distances: list[Annotated[float, Field(ge=-1e6, le=1e6)]] = Field(
        description="Each photo's median distance to the others."
    )
    protected_matches: list[ProtectedMatch] = Field(default_factory=list)


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


class Reference(Message):
    embedding: Embedding
    face_crop: bytes | None = Field(None, description="The analysis' aligned face crop, PNG.")
    # What the photo analysis measured (sharpness, brightness, face_px, yaw, ...):
    # reference-conditioned models (FLUX.2 [klein]) choose their best photos by it.
    quality: dict[str, float] = Field(default_factory=dict)


class GenerateRequest(Message):
    generation_id: str = Field(description="Stable id; the queue's job id derives from it.")
    prompt: str
    # The same order worded for a model that sees the person's photos (FLUX.2
    # [klein]: "the person in the reference images as ..."); empty: use ``prompt``.
    reference_prompt: str = ""
    negative_prompt: str = ""
    style: str = ""
    params: GenerationParams = GenerationParams()
    seeds: list[Seed] = Field(min_length=1, max_length=8)
    references: list[Reference] = Field(min_length=1)
    max_attempts: int = Field(3, ge=1, le=10, description="Tries per variation for likeness.")
    gate: LikenessGate = LikenessGate()
    # Checked against the references before anything is painted (a face protected
    # after the order was queued); a match fails the job with code "protected".
    protected: list[ProtectedFace] = Field(default_factory=list)


class FaceDetail(Message):
    """The face detail pass on a variation (engine/pipeline/detail.py): what ran, what it did."""

    reason: str = Field(description="Why it ran: 'small_face', 'near_gate' or 'always'.")
    strength: float = Field(description="img2img strength of the face re-render.")
    crop: list[int] = Field(description="The square re-rendered: left, top, right, bottom.")
    likeness_before: float | None
    likeness_after: float | None = Field(description="None: no face found after the pass.")
    kept: bool = Field(description="True when the detailed version scored better and was kept.")
    seconds: float = 0.0


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
    verdict: Verdict | None = Field(None, description="Why it passed or failed; None: older.")
    threshold: float | None = Field(
        None, ge=0.0, le=1.0 + 1e-6, description="The likeness this person's output needed."
    )
    regenerated_for: list[Verdict] = Field(
        default_factory=list, description="Why each earlier attempt was rendered again."
    )
    safety: float | None = Field(None, description="Safety check score (open_nsfw), 0..1.")
    detail: FaceDetail | None = Field(None, description="The face detail pass; None: not run.")


class Withheld(Message):
    """A variation the safety check withheld: never its image, only what the audit needs."""

    seed: int = Field(ge=0, description="The request's seed for this variation.")
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
    withheld: list[Withheld] = Field(default_factory=list, max_length=8)


# --- upscale and label ------------------------------------------------------------------------
class UpscaleRequest(Message):
    image: bytes
    scale: Literal[2, 4] = 4


class UpscaleResult(Message):
    image: bytes
    method: str = Field(description="What did the work, e.g. 'realesrgan-x4plus (ncnn, cpu)'.")
    width: int = Field(ge=1, le=MAX_PIXELS_SIDE)
    height: int = Field(ge=1, le=MAX_PIXELS_SIDE)
    seconds: float = Field(ge=0.0, le=MAX_SECONDS)


class LabelRequest(Message):
    image: bytes
    text: str = "Made with AI"


class LabelResult(Message):
    image: bytes
    seconds: float = Field(ge=0.0, le=MAX_SECONDS)


class JobFailure(Message):
    """A permanent failure, returned (not raised) so it crosses the queue as data."""

    failed: Literal[True] = True
    code: str
    message: str


REQUESTS: dict[str, type[Message]] = {
    JOB_ANALYZE: AnalyzePhotoRequest,
    JOB_CHECK_SET: CheckSetRequest,
    JOB_GENERATE: GenerateRequest,
    JOB_UPSCALE: UpscaleRequest,
    JOB_LABEL: LabelRequest,
    JOB_CHECK_PROMPT: CheckPromptRequest,
}
RESULTS: dict[str, type[Message]] = {
    JOB_ANALYZE: AnalyzePhotoResult,
    JOB_CHECK_SET: CheckSetResult,
    JOB_GENERATE: GenerateResult,
    JOB_UPSCALE: UpscaleResult,
    JOB_LABEL: LabelResult,
    JOB_CHECK_PROMPT: CheckPromptResult,
}


# --- serialisation (arq's job_serializer / job_deserializer) ------------------------------------
class ContractError(ValueError):
    """A payload that is not a contract message."""


_PICKLE_PROTOCOL_MARK = 0x80


def _default(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump()
    if isinstance(obj, BaseException):
        # arq stores a raised exception as the job result; carry it as data.
        return {"__exception__": type(obj).__name__, "message": str(obj)}
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} across the queue")


def serialize(obj: Any) -> bytes:
    return msgpack.packb(obj, default=_default, use_bin_type=True)


def deserialize(data: bytes) -> Any:
    if not data:
        raise ContractError("empty payload")
    if data[0] == _PICKLE_PROTOCOL_MARK:
        raise ContractError("pickle payloads are refused")
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several unrelated types
        raise ContractError(f"not a msgpack payload: {exc}") from None


def parse_request(job: str, payload: Any) -> Message:
    """Validate a job's argument into its request model, or raise ContractError."""
    model = REQUESTS.get(job)
    if model is None:
        raise ContractError(f"unknown job {job!r}")
    if not isinstance(payload, dict):
        raise ContractError(f"{job}: expected a mapping, got {type(payload).__name__}")
    try:
        return model.model_validate(payload)
    except Exception as exc:
        raise ContractError(f"{job}: invalid request: {exc}") from None


def parse_result(job: str, payload: Any) -> Message:
    """Turn what a job returned into its result model or a :class:`JobFailure`."""
    if isinstance(payload, dict) and payload.get("failed") is True:
        return JobFailure.model_validate(payload)
    if isinstance(payload, dict) and "__exception__" in payload:
        return JobFailure(code=str(payload["__exception__"]), message=str(payload.get("message")))
    try:
        return RESULTS[job].model_validate(payload)
    except Exception as exc:
        raise ContractError(f"{job}: invalid result: {exc}") from None
