"""Follow-up jobs on one delivered portrait: upscale, label, avatar, vary and relight.

Part of the job contract (:mod:`sitter.contract`, which re-exports every name).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from sitter.contract_base import (
    MAX_PIXELS_SIDE,
    MAX_SECONDS,
    MAX_SIDE,
    Message,
    Seed,
)
from sitter.contract_photos import (
    ProtectedFace,
    Subject,
)
from sitter.contract_render import (
    GenerateResult,
    GenerationParams,
    LikenessGate,
    Placement,
    Reference,
)
from sitter.contract_train import PersonalModel
from sitter.wire import Since


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
    # A pet's portrait: the circle is centred on the animal's head (no_face: no animal).
    subject: Annotated[Subject, Since(4)] = Subject.PERSON


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
    personal: Annotated[PersonalModel | None, Since(4)] = None  # the order's personal model
    # The earlier order's subject (a pet: its references are the animal's).
    subject: Annotated[Subject, Since(4)] = Subject.PERSON
    # A portrait of two people (contract 4): the second person's references and the
    # placement, as in its GenerateRequest; the outputs are gated for both.
    partner_references: Annotated[list[Reference], Since(4)] = Field(default_factory=list)
    placement: Annotated[Placement | None, Since(4)] = None

    @model_validator(mode="after")
    def _relight_names_a_light(self) -> RefineRequest:
        if self.mode == RefineMode.RELIGHT and not self.lighting.strip():
            raise ValueError("a relight needs its lighting words")
        return self


class RefineResult(GenerateResult):
    """A GenerateResult (variations, withheld, ...) and what was done to the portrait."""

    mode: RefineMode
    strength: float = Field(ge=0.0, le=1.0, description="The image-to-image strength used.")
