"""The job contract between the bot and the engine: the only thing both import.

Messages are pydantic models serialised with msgpack (bytes travel as bytes, no
base64). arq's serializer hooks use :func:`serialize` / :func:`deserialize`;
pickle is never accepted. A job function receives one ``dict`` and validates it
into its request model, so a payload that is not a contract message is refused
before any work is done.

Rolling upgrades (bots and workers of two versions on one Redis). The rules, and
what keeps each true (tests/test_contract_versions.py checks them against the
released versions kept in tests/contract_history/):

1. Messages travel without their default-valued fields (:func:`to_wire`), so a newer
   side talking to an older one works whenever the new features are not in use.
2. A change only adds: a new field has a default that means "as before" and is tagged
   with the version that added it (``Annotated[T, Since(2)]``); no field is removed,
   renamed, retyped, made required or given another default. A new enum value that an
   older reader could meet is listed in ``ADDED_VALUES`` with the older value it stands
   for; a new job is listed in ``ADDED_JOBS`` (an older worker fails it at once, and the
   bot must carry on without its answer). ``CONTRACT_VERSION`` goes up once per release
   that adds anything, and the released contract is copied to tests/contract_history/.
3. Each queued job carries the bot's ``CONTRACT_VERSION`` beside arq's own keys (older
   workers ignore it), and the engine answers in that version's shape: fields and values
   the bot cannot know are left out or replaced. A field an older bot loses must be safe
   to lose: the engine never relies on an older bot acting on a new result field.
4. Requests stay strict on the engine (``extra="forbid"``): a field it does not know (a
   newer bot's feature) is refused with a JobFailure saying to upgrade the workers first,
   never rendered as a half-understood order. Results are read tolerantly by the bot:
   unknown fields are dropped and logged once (:func:`parse_result`).
5. So upgrade the workers first, then the bots (README, "Scaling workers"). A bot newer
   than the workers gets ``engine_outdated`` failures for the orders that use its new
   features (:func:`outdated_engine`), and nothing worse.

Nothing here imports torch, numpy or a chat library.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sitter import wire
from sitter.wire import ALWAYS, Since

# 1: the first release (d6c4a3b). 2: the likeness gate (GenerateRequest.gate,
# Variation.verdict/threshold/regenerated_for), FLUX.2 [klein] (reference_prompt,
# Reference.quality, the check_prompt job), protected faces checked again at set checks
# and before a render (CheckSetRequest.protected, CheckSetResult.protected_matches,
# GenerateRequest.protected), the output safety check (Variation.safety,
# GenerateResult.withheld, PhotoProblem.UNSAFE), the face detail pass (Variation.detail)
# (c3b3b31). 3: picture formats (GenerateRequest.aspect), the avatar job, the refine
# job (vary / relight one portrait: RefineRequest, RefineResult) and the photo
# fingerprint (AnalyzePhotoResult.fingerprint) (issue 15).
CONTRACT_VERSION = 3

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
JOB_AVATAR = "avatar"  # a round-avatar crop of a portrait (engine/avatar.py)
JOB_REFINE = "refine"  # vary or relight one delivered portrait (image-to-image)

# Photo analysis is quick and must not wait behind a 30-step generation, so it
# has its own queue; a worker process serves both. Which job goes where: ``JOBS``.
QUEUE_FAST = "fast"  # analysis, set checks, labels, prompt checks
QUEUE_GPU = "gpu"  # generation, upscaling and refining


def queue_name(prefix: str, queue: str) -> str:
    return f"{prefix}:queue:{queue}"


def queue_for(job: str) -> str:
    """The queue that serves ``job`` (a job this contract does not know: the fast one)."""
    spec = JOBS.get(job)
    return spec.queue if spec is not None else QUEUE_FAST


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
    # engine/near_duplicate.py: "<16 hex>/<16 hex>" (the picture and its mirror), so the
    # same picture at another size or quality counts once. Empty from an older engine.
    fingerprint: Annotated[str, Since(3)] = Field("", max_length=40)


class CheckSetRequest(Message):
    embeddings: list[Embedding]
    # Faces protected since the photos were accepted: checked again before an order.
    protected: Annotated[list[ProtectedFace], Since(2)] = Field(default_factory=list)


class ProtectedMatch(Message):
    index: int = Field(ge=0, le=10_000, description="Which embedding of the request.")
    protected_id: int = Field(ge=0, le=MAX_ID)


class CheckPromptRequest(Message):
    prompt: str
    reference_prompt: str = ""


class CheckPromptResult(Message):
    fits: bool
    family: str = Field("", description="sdxl, sd15, klein, or empty when not known here.")
    tokens: int | None = Field(None, ge=0, le=10_000_000)
    limit: int | None = Field(None, ge=0, le=10_000_000)
    message: str = ""


class CheckSetResult(Message):
    outliers: list[Annotated[int, Field(ge=0, le=10_000)]] = Field(
        description="Indexes of photos that look like someone else."
    )
    threshold: float = Field(ge=-1e6, le=1e6)
    distances: list[Annotated[float, Field(ge=-1e6, le=1e6)]] = Field(
        description="Each photo's median distance to the others."
    )
    protected_matches: Annotated[list[ProtectedMatch], Since(2)] = Field(default_factory=list)


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


class Progress(Message):
    """How far a running generation is (engine/progress.py), read by the bot while it waits.

    Kept in Redis under :func:`progress_key` with a short TTL and deleted when the job
    ends or is dropped; nothing personal in it. The variations of one pass render in
    one batch, so ``variations`` names all those being painted now (1-based).
    """

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)

    stage: Literal["render", "detail"] = "render"  # detail: the face detail pass
    attempt: int = Field(1, ge=1, le=10, description="1: first render; 2+: re-renders.")
    variations: list[Annotated[int, Field(ge=1, le=8)]] = Field(default_factory=list, max_length=8)
    of: int = Field(0, ge=0, le=8, description="Variations in the order.")
    done: int = Field(0, ge=0, le=8, description="Variations finished (kept for good).")
    step: int = Field(0, ge=0, le=10_000)
    steps: int = Field(0, ge=0, le=10_000)


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


class AvatarProblem(StrEnum):
    """Why a portrait cannot be made a round avatar; the result's message words it."""

    NOT_A_PORTRAIT = "not_a_portrait"  # no AI provenance: never labelled as made by AI
    UNREADABLE = "unreadable"
    NO_FACE = "no_face"
    SEVERAL_FACES = "several_faces"
    FACE_AT_EDGE = "face_at_edge"  # the circle cannot be centred on the face
    FACE_TOO_LARGE = "face_too_large"  # the face does not fit the circle
    TOO_SMALL = "too_small"


class AvatarRequest(Message):
    image: bytes = Field(description="A labelled portrait (PNG or JPEG) from generate.")
    sizes: list[Annotated[int, Field(ge=64, le=MAX_SIDE)]] = Field(
        default_factory=lambda: [512, 1024], min_length=1, max_length=4
    )
    # Platforms strip metadata from avatars: a visible label inside the circle survives.
    badge: bool = True
    text: str = Field("Made with AI", min_length=1, max_length=40, pattern=r"\S")


class Avatar(Message):
    size: int = Field(ge=64, le=MAX_SIDE)
    image: bytes = Field(description="PNG, labelled and signed (the portrait is its parent).")


class AvatarResult(Message):
    avatars: list[Avatar] = Field(default_factory=list, max_length=4)
    problem: AvatarProblem | None = None
    message: str = Field("", description="For the person when there is a problem.")
    crop: list[Annotated[int, Field(ge=0, le=MAX_PIXELS_SIDE)]] = Field(
        default_factory=list, max_length=4, description="left, top, right, bottom."
    )
    offset: float | None = Field(
        None, ge=0.0, le=1.0, description="Face centre from the crop's centre, of its side."
    )
    seconds: float = Field(0.0, ge=0.0, le=MAX_SECONDS)


# --- refine: vary or relight one delivered portrait ----------------------------------------------
class RefineMode(StrEnum):
    VARY = "vary"  # new images from the portrait, new seeds, the same order
    RELIGHT = "relight"  # the portrait under another light


class RefineStrength(StrEnum):
    """How far the output may move from the portrait; the engine maps it to an
    image-to-image strength per mode (engine/pipeline/img2img.py ``STRENGTHS``)."""

    SUBTLE = "subtle"
    STRONG = "strong"


MAX_LIGHTING = 300  # characters of a relight's lighting words


class RefineRequest(Message):
    """Vary or relight ``image``, one portrait of an earlier order, with that order's
    prompt, style gate and references (the same identity conditioning). Every output is
    gated for likeness like any order and labelled with ``image`` as its C2PA parent."""

    generation_id: str = Field(description="Stable id of this follow-up order.")
    mode: RefineMode
    image: bytes = Field(description="The portrait as delivered (its labelled PNG).")
    strength: RefineStrength = RefineStrength.SUBTLE
    # relight: the light, e.g. a wizard preset's value or the person's own words.
    lighting: str = Field("", max_length=MAX_LIGHTING)
    # The earlier order's, as in its GenerateRequest:
    prompt: str
    reference_prompt: str = ""
    negative_prompt: str = ""
    style: str = ""
    params: GenerationParams = GenerationParams()
    seeds: list[Seed] = Field(min_length=1, max_length=8)
    references: list[Reference] = Field(min_length=1)
    max_attempts: int = Field(3, ge=1, le=10, description="Tries per variation for likeness.")
    gate: LikenessGate = LikenessGate()
    protected: list[ProtectedFace] = Field(default_factory=list)

    @model_validator(mode="after")
    def _relight_names_a_light(self) -> RefineRequest:
        if self.mode == RefineMode.RELIGHT and not self.lighting.strip():
            raise ValueError("a relight needs its lighting words")
        return self


class RefineResult(GenerateResult):
    """A GenerateResult (variations, withheld, ...) and what was done to the portrait."""

    mode: RefineMode
    strength: float = Field(ge=0.0, le=1.0, description="The image-to-image strength used.")


class FailureCode(StrEnum):
    """Why a job failed: the closed set of ``JobFailure.code`` values, each worded for
    people by the bot (bot/studio/words.py, ``failure_words``). On the wire the code
    stays a plain string, so a code from a newer engine still decodes; this side reads
    it as :attr:`UNKNOWN` (:meth:`of`) and words it generically."""

    # The engine's (engine/jobs.py, engine/job_errors.py)
    BAD_REQUEST = "bad_request"  # the request breaks the contract (or is from a newer bot)
    BAD_IMAGE = "bad_image"  # an image that cannot be read, upscaled or carried
    PROMPT_TOO_LONG = "prompt_too_long"  # more tokens than the text encoder reads
    IDENTITY_MISMATCH = "identity_mismatch"  # references from another face backend
    PROTECTED = "protected"  # a reference shows a protected face: nothing is painted
    WITHHELD = "withheld"  # a derived copy over the output safety check's threshold
    NOT_AVAILABLE = "not_available"  # this worker lacks what the job needs (an upscaler)
    NOT_READY = "not_ready"  # the worker's models did not load in time
    OUT_OF_MEMORY = "out_of_memory"  # the GPU ran out of memory on every try
    DROPPED = "dropped"  # the bot dropped the job while it ran
    INTERNAL = "internal"  # an unexpected error (details in the worker's log)
    # The bot's own, for answers that never came from an engine's job (sitter/queue.py)
    LOST = "lost"  # the job is gone from Redis
    BAD_RESULT = "bad_result"  # an answer this bot cannot read
    ENGINE_OUTDATED = "engine_outdated"  # a worker older than the bot refused the order
    TIMED_OUT = "timed_out"  # the job ran past its time limit (arq answers TimeoutError)
    UNKNOWN = "unknown"  # anything else: a newer engine's code, another arq exception

    @classmethod
    def of(cls, code: str) -> FailureCode:
        """``code`` as a member; one this side does not know is :attr:`UNKNOWN`."""
        try:
            return cls(_FAILURE_ALIASES.get(str(code), str(code)))
        except ValueError:
            return cls.UNKNOWN


# arq's names for a job that raised instead of answering (sitter/wire.py "__exception__").
_FAILURE_ALIASES = {"TimeoutError": FailureCode.TIMED_OUT.value}


class JobFailure(Message):
    """A permanent failure, returned (not raised) so it crosses the queue as data.

    ``code`` is a :class:`FailureCode` value, a plain string on the wire (read it with
    :attr:`kind`); ``message`` is the engine's sentence for the log, never for the chat."""

    failed: Annotated[Literal[True], ALWAYS] = True  # what tells a failure from a result
    code: str
    message: str

    @property
    def kind(self) -> FailureCode:
        return FailureCode.of(self.code)


@dataclass(frozen=True)
class JobSpec:
    """One job as both sides see it: its queue, request and result (the engine's own
    table, engine/work.py, adds the model parts it needs and its handler)."""

    queue: str
    request: type[Message]
    result: type[Message]


JOBS: dict[str, JobSpec] = {
    JOB_ANALYZE: JobSpec(QUEUE_FAST, AnalyzePhotoRequest, AnalyzePhotoResult),
    JOB_CHECK_SET: JobSpec(QUEUE_FAST, CheckSetRequest, CheckSetResult),
    JOB_GENERATE: JobSpec(QUEUE_GPU, GenerateRequest, GenerateResult),
    JOB_UPSCALE: JobSpec(QUEUE_GPU, UpscaleRequest, UpscaleResult),
    JOB_LABEL: JobSpec(QUEUE_FAST, LabelRequest, LabelResult),
    JOB_CHECK_PROMPT: JobSpec(QUEUE_FAST, CheckPromptRequest, CheckPromptResult),
    JOB_AVATAR: JobSpec(QUEUE_FAST, AvatarRequest, AvatarResult),
    JOB_REFINE: JobSpec(QUEUE_GPU, RefineRequest, RefineResult),
}
REQUESTS: dict[str, type[Message]] = {name: spec.request for name, spec in JOBS.items()}
RESULTS: dict[str, type[Message]] = {name: spec.result for name, spec in JOBS.items()}


# What an older reader meets instead of values added later (rule 2). Verdict, StyleKind
# and GatePolicy only travel in fields a contract-1 side never sees. A contract-1 bot
# words a refused photo by the engine's own sentence (Issue.detail), so an unsafe photo
# still reads as such there; its stored reason is "unsupported".
ADDED_VALUES: dict[StrEnum, tuple[int, StrEnum]] = {
    PhotoProblem.UNSAFE: (2, PhotoProblem.UNSUPPORTED),
}
ADDED_JOBS: dict[str, int] = {JOB_CHECK_PROMPT: 2, JOB_AVATAR: 3, JOB_REFINE: 3}


# --- serialisation (arq's job_serializer / job_deserializer): sitter/wire.py -----------------
ContractError = wire.ContractError
UPGRADE_WORKERS = wire.UPGRADE_WORKERS
_codec = wire.Codec(CONTRACT_VERSION, REQUESTS, RESULTS, JobFailure, ADDED_VALUES)
serialize = _codec.serialize
deserialize = _codec.deserialize
to_wire = _codec.to_wire
parse_request = _codec.parse_request
parse_result = _codec.parse_result
outdated_engine = _codec.outdated_engine
