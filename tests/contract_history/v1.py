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
from typing import Any, Literal

import msgpack
from pydantic import BaseModel, ConfigDict, Field

CONTRACT_VERSION = 1

# --- job names and queues ----------------------------------------------------------
JOB_ANALYZE = "analyze_photo"
JOB_CHECK_SET = "check_set"
JOB_GENERATE = "generate"
JOB_UPSCALE = "upscale"
JOB_LABEL = "label"

# Photo analysis is quick and must not wait behind a 30-step generation, so it
# has its own queue; a worker process serves both.
QUEUE_FAST = "fast"  # analysis, set checks, labels
QUEUE_GPU = "gpu"  # generation and upscaling


def queue_name(prefix: str, queue: str) -> str:
    return f"{prefix}:queue:{queue}"


def queue_for(job: str) -> str:
    return QUEUE_GPU if job in (JOB_GENERATE, JOB_UPSCALE) else QUEUE_FAST


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class Issue(Message):
    problem: PhotoProblem
    detail: str = Field(description="One sentence for the user, e.g. 'I see 3 faces'.")
    values: dict[str, float | int | str] = Field(default_factory=dict)


class Embedding(Message):
    backend: str = Field(description="Which model made it, e.g. 'dlib' or 'insightface:buffalo_l'.")
    vector: list[float]


class ProtectedFace(Message):
    id: int
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
    face_count: int = 0
    width: int = 0
    height: int = 0
    format: str = ""
    embedding: Embedding | None = None
    face_crop: bytes | None = Field(None, description="Aligned face crop, PNG.")
    protected_match: int | None = None
    quality: dict[str, float] = Field(default_factory=dict)


class CheckSetRequest(Message):
    embeddings: list[Embedding]


class CheckSetResult(Message):
    outliers: list[int] = Field(description="Indexes of photos that look like someone else.")
    threshold: float
    distances: list[float] = Field(description="Each photo's median distance to the others.")


# --- generation ---------------------------------------------------------------------------
class GenerationParams(Message):
    steps: int | None = None
    guidance: float | None = None
    width: int | None = None
    height: int | None = None
    identity_scale: float | None = None


class Reference(Message):
    embedding: Embedding
    face_crop: bytes | None = None


class GenerateRequest(Message):
    generation_id: str = Field(description="Stable id; the queue's job id derives from it.")
    prompt: str
    negative_prompt: str = ""
    style: str = ""
    params: GenerationParams = GenerationParams()
    seeds: list[int] = Field(min_length=1, max_length=8)
    references: list[Reference] = Field(min_length=1)
    max_attempts: int = Field(3, ge=1, le=10, description="Tries per variation for likeness.")


class Variation(Message):
    seed: int
    image: bytes = Field(description="PNG with AI provenance metadata.")
    likeness: float | None = Field(description="Similarity to the references, 0..1.")
    face_found: bool
    attempts: int = 1
    passed: bool = Field(description="Likeness at or above the backend's threshold.")


class GenerateResult(Message):
    generation_id: str
    variations: list[Variation]
    model: str
    adapter: str
    device: str
    seconds: float


# --- upscale and label ------------------------------------------------------------------------
class UpscaleRequest(Message):
    image: bytes
    scale: Literal[2, 4] = 4


class UpscaleResult(Message):
    image: bytes
    method: str = Field(description="What did the work, e.g. 'realesrgan-x4plus (ncnn, cpu)'.")
    width: int
    height: int
    seconds: float


class LabelRequest(Message):
    image: bytes
    text: str = "Made with AI"


class LabelResult(Message):
    image: bytes
    seconds: float


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
}
RESULTS: dict[str, type[Message]] = {
    JOB_ANALYZE: AnalyzePhotoResult,
    JOB_CHECK_SET: CheckSetResult,
    JOB_GENERATE: GenerateResult,
    JOB_UPSCALE: UpscaleResult,
    JOB_LABEL: LabelResult,
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
