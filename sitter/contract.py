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

from sitter import wire
from sitter.contract_base import (  # noqa: F401  (re-exported: the contract is one namespace)
    MAX_ID,
    MAX_PIXELS_SIDE,
    MAX_SECONDS,
    MAX_SIDE,
    MAX_STEPS,
    MAX_VECTOR,
    Message,
    Seed,
)
from sitter.contract_followups import (  # noqa: F401  (re-exported: the contract is one namespace)
    MAX_LIGHTING,
    Avatar,
    AvatarProblem,
    AvatarRequest,
    AvatarResult,
    LabelRequest,
    LabelResult,
    RefineMode,
    RefineRequest,
    RefineResult,
    RefineStrength,
    UpscaleRequest,
    UpscaleResult,
)
from sitter.contract_photos import (  # noqa: F401  (re-exported: the contract is one namespace)
    AnalyzePhotoRequest,
    AnalyzePhotoResult,
    CheckPromptRequest,
    CheckPromptResult,
    CheckSetRequest,
    CheckSetResult,
    Embedding,
    Issue,
    PhotoProblem,
    ProtectedFace,
    ProtectedMatch,
    Subject,
)
from sitter.contract_render import (  # noqa: F401  (re-exported: the contract is one namespace)
    Aspect,
    ColourCheck,
    FaceDetail,
    GatePolicy,
    GenerateRequest,
    GenerateResult,
    GenerationParams,
    LikenessGate,
    Placement,
    Progress,
    Reference,
    StyleKind,
    Variation,
    Verdict,
    Withheld,
    progress_key,
)
from sitter.contract_screen import (  # noqa: F401  (re-exported: the contract is one namespace)
    MAX_SCREEN_CHARS,
    MAX_SCREEN_SLOTS,
    ScreenTextRequest,
    ScreenTextResult,
)
from sitter.contract_train import (  # noqa: F401  (re-exported: the contract is one namespace)
    JOB_TRAIN,
    MAX_LORA_BYTES,
    MAX_TRAIN_PHOTOS,
    MAX_TRAIN_STEPS,
    QUEUE_TRAIN,
    PersonalModel,
    TrainPhoto,
    TrainRequest,
    TrainResult,
    train_checkpoint_key,
)
from sitter.wire import ALWAYS

# 1: the first release (d6c4a3b). 2: the likeness gate (GenerateRequest.gate,
# Variation.verdict/threshold/regenerated_for), FLUX.2 [klein] (reference_prompt,
# Reference.quality, the check_prompt job), protected faces checked again at set checks
# and before a render (CheckSetRequest.protected, CheckSetResult.protected_matches,
# GenerateRequest.protected), the output safety check (Variation.safety,
# GenerateResult.withheld, PhotoProblem.UNSAFE), the face detail pass (Variation.detail)
# (c3b3b31). 3: picture formats (GenerateRequest.aspect), the avatar job, the refine
# job (vary / relight one portrait: RefineRequest, RefineResult) and the photo
# fingerprint (AnalyzePhotoResult.fingerprint) (issue 15), the semantic screen of typed
# answers (the screen_text job, FailureCode.REFUSED_PROMPT) (issue 22). 4: the personal
# model (issue 23: the train_personal job on the train queue, GenerateRequest.personal,
# RefineRequest.personal, GenerateResult.personal_sha256, Progress stage "train" and
# seconds_left, FailureCode.NOT_SUPPORTED); pets (issue 25: ``subject`` on analysis, set
# checks, generate, refine and avatar requests, the pet photo problems,
# AnalyzePhotoResult.species, Verdict.COLOUR_DRIFT, Variation.colour); portraits of two
# people (issue 24: GenerateRequest and RefineRequest .partner_references/placement,
# CheckPromptRequest.two_people, Variation.partner_similarity/partner_threshold,
# Verdict.ONE_FACE/STRANGER).
CONTRACT_VERSION = 4

# --- job names and queues ----------------------------------------------------------
JOB_ANALYZE = "analyze_photo"
JOB_CHECK_SET = "check_set"
JOB_GENERATE = "generate"
JOB_UPSCALE = "upscale"
JOB_LABEL = "label"
JOB_CHECK_PROMPT = "check_prompt"  # does an order's prompt fit this worker's text encoder?
JOB_AVATAR = "avatar"  # a round-avatar crop of a portrait (engine/avatar.py)
JOB_REFINE = "refine"  # vary or relight one delivered portrait (image-to-image)
JOB_SCREEN_TEXT = "screen_text"  # does a model read typed answers as refused content?

# Photo analysis is quick and must not wait behind a 30-step generation, so it
# has its own queue; a worker process serves both. Which job goes where: ``JOBS``.
QUEUE_FAST = "fast"  # analysis, set checks, labels, prompt and text screen checks
QUEUE_GPU = "gpu"  # generation, upscaling and refining
# QUEUE_TRAIN = "train" (sitter/contract_train.py): personal models' training


def queue_name(prefix: str, queue: str) -> str:
    return f"{prefix}:queue:{queue}"


def queue_for(job: str) -> str:
    """The queue that serves ``job`` (a job this contract does not know: the fast one)."""
    spec = JOBS.get(job)
    return spec.queue if spec is not None else QUEUE_FAST


class FailureCode(StrEnum):
    """Why a job failed: the closed set of ``JobFailure.code`` values, each worded for
    people by the bot (bot/studio/core/words.py, ``failure_words``). On the wire the code
    stays a plain string, so a code from a newer engine still decodes; this side reads
    it as :attr:`UNKNOWN` (:meth:`of`) and words it generically."""

    # The engine's (engine/jobs.py, engine/job_errors.py)
    BAD_REQUEST = "bad_request"  # the request breaks the contract (or is from a newer bot)
    BAD_IMAGE = "bad_image"  # an image that cannot be read, upscaled or carried
    PROMPT_TOO_LONG = "prompt_too_long"  # more tokens than the text encoder reads
    REFUSED_PROMPT = "refused_prompt"  # the semantic screen refused the order's words
    IDENTITY_MISMATCH = "identity_mismatch"  # references from another face backend
    PROTECTED = "protected"  # a reference shows a protected face: nothing is painted
    WITHHELD = "withheld"  # a derived copy over the output safety check's threshold
    NOT_AVAILABLE = "not_available"  # this worker lacks what the job needs (an upscaler)
    NOT_SUPPORTED = "not_supported"  # this model family cannot do it (train a personal model)
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
    JOB_SCREEN_TEXT: JobSpec(QUEUE_FAST, ScreenTextRequest, ScreenTextResult),
    JOB_TRAIN: JobSpec(QUEUE_TRAIN, TrainRequest, TrainResult),
}
REQUESTS: dict[str, type[Message]] = {name: spec.request for name, spec in JOBS.items()}
RESULTS: dict[str, type[Message]] = {name: spec.result for name, spec in JOBS.items()}


# What an older reader meets instead of values added later (rule 2). Verdict, StyleKind
# and GatePolicy only travel in fields a contract-1 side never sees. A contract-1 bot
# words a refused photo by the engine's own sentence (Issue.detail), so an unsafe photo
# still reads as such there; its stored reason is "unsupported". The pet problems and
# the colour drift verdict only answer pet requests, which an older bot never sends; each
# still stands for the nearest older value.
ADDED_VALUES: wire.AddedValues = {
    PhotoProblem.UNSAFE: (2, PhotoProblem.UNSUPPORTED),
    PhotoProblem.NO_PET: (4, PhotoProblem.NO_FACE),
    PhotoProblem.SEVERAL_PETS: (4, PhotoProblem.SEVERAL_FACES),
    PhotoProblem.PET_TOO_SMALL: (4, PhotoProblem.FACE_TOO_SMALL),
    PhotoProblem.PERSON_IN_PET_PHOTO: (4, PhotoProblem.SEVERAL_FACES),
    PhotoProblem.WRONG_SPECIES: (4, PhotoProblem.DIFFERENT_PERSON),
    Verdict.COLOUR_DRIFT: (4, Verdict.NOT_ALIKE),
    # Only two-person orders meet these, which an older bot cannot send; worded as the
    # nearest one-person verdict all the same (a missing face, a face not alike).
    Verdict.ONE_FACE: (4, Verdict.NO_FACE),
    Verdict.STRANGER: (4, Verdict.NOT_ALIKE),
}
ADDED_JOBS: dict[str, int] = {
    JOB_CHECK_PROMPT: 2,
    JOB_AVATAR: 3,
    JOB_REFINE: 3,
    JOB_SCREEN_TEXT: 3,
    JOB_TRAIN: 4,
}


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
