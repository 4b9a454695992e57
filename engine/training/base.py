"""What a model family gives the shared training loop: a :class:`Trainer`.

A family that can learn a personal model (engine/families/: klein, sdxl) returns one
from ``Family.trainer(loaded)``; the loop (engine/training/loop.py) never asks which
family it has. A trainer knows its denoiser (where the LoRA goes), how to encode
captions and pictures once, the training loss for one cached sample, and how to write
the LoRA in the format the family's diffusers pipeline reads with ``load_lora_weights``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from engine.pipeline.loaded import LoadedPipeline

TRAIN_ADAPTER = "sitter_training"  # the adapter name while a LoRA is being trained


@dataclass
class Sample:
    """One training picture, encoded once: its latents and its caption's features."""

    latents: torch.Tensor
    text: dict[str, Any]  # the family's conditioning tensors for this caption


class Trainer(ABC):
    """One family's side of training (see the module docstring)."""

    family: ClassVar[str]
    default_steps: ClassVar[int] = 1000
    learning_rate: ClassVar[float] = 1e-4
    lora_prefix: ClassVar[str]  # "transformer" / "unet": the key prefix diffusers reads

    def __init__(self, loaded: LoadedPipeline) -> None:
        self.loaded = loaded
        self.pipe = loaded.pipe

    @property
    def lr(self) -> float:
        """The learning rate: the family's, a hundred times it on a tiny random model
        (whose 30 steps in a test must move it visibly)."""
        return self.learning_rate * (100.0 if self.loaded.tiny else 1.0)

    @property
    @abstractmethod
    def denoiser(self) -> Any:
        """The module the LoRA goes on (a diffusers model with peft's adapter mixin)."""

    @abstractmethod
    def target_modules(self) -> list[str]:
        """The denoiser's module names (or suffixes) the LoRA wraps."""

    @abstractmethod
    def side(self) -> int:
        """The training pictures' side in pixels (512 on the real models)."""

    @abstractmethod
    def encode_text(self, captions: list[str]) -> list[dict[str, Any]]:
        """Each caption's conditioning, computed once (no grad)."""

    @abstractmethod
    def encode_images(self, images: list[Image.Image]) -> list[torch.Tensor]:
        """Each picture's latents (the form the loss takes), computed once (no grad)."""

    @abstractmethod
    def loss(self, sample: Sample, generator: torch.Generator) -> torch.Tensor:
        """The training loss of one cached sample with noise from ``generator``."""

    def to_diffusers(self, peft_state: dict[str, Any]) -> dict[str, Any]:
        """peft's LoRA state dict in the family's diffusers format (prefixed keys)."""
        return {f"{self.lora_prefix}.{k}": v for k, v in peft_state.items()}


class NotTrainable(Exception):
    """This model family cannot learn a personal model (the job answers not_supported)."""

    def __init__(self, title: str) -> None:
        super().__init__(f"{title} cannot learn a personal model on this worker (not supported)")
