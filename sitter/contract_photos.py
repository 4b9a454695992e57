"""The photo jobs' messages: one reference photo, a whole set, a prompt's fit.

Part of the job contract (:mod:`sitter.contract`, which re-exports every name).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from sitter.contract_base import (
    MAX_ID,
    MAX_PIXELS_SIDE,
    MAX_VECTOR,
    Message,
)
from sitter.wire import Since


# --- whose photos -----------------------------------------------------------------------
class Subject(StrEnum):
    """Whom a set of photos shows: a person (faces) or one pet (an animal detector and an
    image embedding of the animal's crop, engine/pets/)."""

    PERSON = "person"
    CAT = "cat"
    DOG = "dog"


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
    # A pet's photos (contract 4); blurry, dark and overexposed reuse the codes above.
    NO_PET = "no_pet"  # no cat or dog found
    SEVERAL_PETS = "several_pets"
    PET_TOO_SMALL = "pet_too_small"
    PERSON_IN_PET_PHOTO = "person_in_pet_photo"  # a face beside the pet: refused like a group
    WRONG_SPECIES = "wrong_species"  # the set is a cat's, this photo shows a dog


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
    # Whose set the photo joins: a person (a face) or one cat or dog (the animal). For a
    # pet, ``set_embeddings`` are the set's animal embeddings and a photo showing the
    # other species is refused (wrong_species).
    subject: Annotated[Subject, Since(4)] = Subject.PERSON


class AnalyzePhotoResult(Message):
    accepted: bool
    issues: list[Issue] = Field(default_factory=list)
    face_count: int = Field(0, ge=0, le=10_000)
    width: int = Field(0, ge=0, le=MAX_PIXELS_SIDE)
    height: int = Field(0, ge=0, le=MAX_PIXELS_SIDE)
    format: str = ""
    embedding: Embedding | None = Field(
        None,
        description="A person: the face embedding. A pet: the image embedding of the "
        "animal's crop (backend 'dinov2:...').",
    )
    face_crop: bytes | None = Field(
        None, description="A person: the aligned face crop. A pet: the animal's crop. PNG."
    )
    protected_match: int | None = Field(None, ge=0, le=MAX_ID)
    quality: dict[str, Annotated[float, Field(ge=-1e9, le=1e9)]] = Field(
        default_factory=dict, max_length=32
    )
    # engine/near_duplicate.py: "<16 hex>/<16 hex>" (the picture and its mirror), so the
    # same picture at another size or quality counts once. Empty from an older engine.
    fingerprint: Annotated[str, Since(3)] = Field("", max_length=40)
    # A pet's photo: the species the detector found (None: a person's photo, or no animal).
    species: Annotated[Subject | None, Since(4)] = None


class CheckSetRequest(Message):
    embeddings: list[Embedding]
    # Faces protected since the photos were accepted: checked again before an order.
    protected: Annotated[list[ProtectedFace], Since(2)] = Field(default_factory=list)
    # A pet's set: ``embeddings`` are animal embeddings, judged by the majority the same way.
    subject: Annotated[Subject, Since(4)] = Subject.PERSON


class ProtectedMatch(Message):
    index: int = Field(ge=0, le=10_000, description="Which embedding of the request.")
    protected_id: int = Field(ge=0, le=MAX_ID)


class CheckPromptRequest(Message):
    prompt: str
    reference_prompt: str = ""
    # A portrait of two people (contract 4): counted as the family words it for two, in
    # its longest placement.
    two_people: Annotated[bool, Since(4)] = False


class CheckPromptResult(Message):
    fits: bool
    family: str = Field("", description="sdxl, sd15, klein, or empty when not known here.")
    tokens: int | None = Field(None, ge=0, le=10_000_000)
    limit: int | None = Field(None, ge=0, le=10_000_000)
    message: str = ""


class CheckSetResult(Message):
    outliers: list[Annotated[int, Field(ge=0, le=10_000)]] = Field(
        description="Indexes of photos that look like someone else (a pet: another animal)."
    )
    threshold: float = Field(ge=-1e6, le=1e6)
    distances: list[Annotated[float, Field(ge=-1e6, le=1e6)]] = Field(
        description="Each photo's median distance to the others."
    )
    protected_matches: Annotated[list[ProtectedMatch], Since(2)] = Field(default_factory=list)
