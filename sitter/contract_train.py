"""The personal model: a LoRA learned from a person's accepted photos (issue 23).

Part of the job contract (:mod:`sitter.contract`, which re-exports every name). The
bot sends the accepted photos of the person's current set (each with the analysis'
aligned face crop and quality figures, from which the engine writes captions); the
engine trains a LoRA on its model family's denoiser on the ``train`` queue and answers
with the file (safetensors bytes, in the format the family's diffusers pipeline reads
with ``load_lora_weights``) and the licence it inherits from its base model. A later
order carries the file back as :class:`PersonalModel` (``GenerateRequest.personal``);
the worker loads it for that order only and unloads it afterwards.

While a training job runs, its progress is the ordinary :class:`Progress` under
``progress_key`` with ``stage="train"`` (``step`` of ``steps``). Its checkpoint (worker
to worker state, so a killed worker's job resumes where it was) lives in Redis under
:func:`train_checkpoint_key` and is deleted when the job ends or is dropped
(``Engine.drop_training``).
"""

from __future__ import annotations

from pydantic import Field

from sitter.contract_base import MAX_SECONDS, Message, Seed

JOB_TRAIN = "train_personal"
# Training runs for minutes: it has a queue of its own so a worker can serve it beside
# the gpu queue (yielding between steps while orders wait) or on dedicated trainers.
QUEUE_TRAIN = "train"

MAX_TRAIN_PHOTOS = 40
MAX_TRAIN_STEPS = 5000
MAX_LORA_BYTES = 512 * 1024 * 1024  # a rank-128 LoRA on a 12B denoiser stays far below


class TrainPhoto(Message):
    """One accepted photo of the set: the photo, the analysis' aligned face crop and what
    the analysis measured (sharpness, brightness, face_px, yaw...), used for captions."""

    image: bytes
    face_crop: bytes | None = Field(None, description="The analysis' aligned face crop, PNG.")
    quality: dict[str, float] = Field(default_factory=dict)


class TrainRequest(Message):
    train_id: str = Field(min_length=1, max_length=200, description="Stable id of this model.")
    photos: list[TrainPhoto] = Field(min_length=1, max_length=MAX_TRAIN_PHOTOS)
    steps: int | None = Field(
        None, ge=1, le=MAX_TRAIN_STEPS, description="None: the model family's default."
    )
    rank: int = Field(16, ge=1, le=128)
    seed: Seed = 0


class TrainResult(Message):
    train_id: str = ""
    lora: bytes = Field(description="The LoRA, safetensors (diffusers' format for the family).")
    sha256: str = Field(min_length=64, max_length=64, description="Of ``lora``.")
    steps: int = Field(ge=0, le=MAX_TRAIN_STEPS, description="Steps trained in all.")
    resumed_from: int = Field(0, ge=0, le=MAX_TRAIN_STEPS, description="0: started afresh.")
    family: str = Field(description="The model family it belongs to (klein, sdxl...).")
    base_model: str = Field(description="The base model it was trained on (a hub id).")
    licence: str = Field(description="The base model's licence, which it inherits.")
    commercial_ok: bool = Field(description="Its base model's licence allows commercial use.")
    seconds: float = Field(ge=0.0, le=MAX_SECONDS)


class PersonalModel(Message):
    """A person's trained LoRA carried with an order (``GenerateRequest.personal``)."""

    lora: bytes = Field(max_length=MAX_LORA_BYTES)
    sha256: str = Field(min_length=64, max_length=64, description="Of ``lora``; checked.")
    scale: float = Field(1.0, ge=0.0, le=2.0)


def train_checkpoint_key(prefix: str, job_id: str) -> str:
    """Where a training job's last checkpoint lives in Redis (a hash: safetensors of the
    LoRA and optimizer tensors + JSON of the step and scalars; never pickle)."""
    return f"{prefix}:train-checkpoint:{job_id}"
