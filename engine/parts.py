"""The worker's model parts, and what a job's work may ask of the loaded runtime.

A leaf module (it imports no engine module at run time): the job table
(engine/work.py), the runtime that loads the parts (engine/runtime.py) and the render
path (engine/pipeline/generate.py, detail.py) all refer to it, so the render path needs
no import of the runtime, nor the runtime of the render path's types.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.faces.base import FaceAnalyzer
    from engine.pets.models import PetModels
    from engine.pipeline.loaded import LoadedPipeline
    from sitter.config import Settings
    from sitter.contract import Subject


@dataclass(frozen=True)
class ModelPart:
    name: str  # Runtime._load_<name> loads it
    light: bool  # small and quick: loaded first, so the fast queue serves while the rest load
    what: str


MODEL_PARTS = (
    ModelPart("faces", True, "face detector and embeddings (SITTER_FACE_BACKEND)"),
    ModelPart("signer", True, "C2PA signing credentials (engine/signing.py)"),
    ModelPart("text", True, "FLUX.2 [klein]'s tokenizer, for check_prompt (else nothing)"),
    ModelPart("safety", True, "the output safety classifier, open_nsfw (22 MB)"),
    ModelPart("screen", True, "the semantic screen of typed answers, all-MiniLM-L6-v2 (90 MB)"),
    ModelPart("pets", True, "animal detector (RT-DETR) and embedder (DINOv2) for pet photos"),
    ModelPart("pipeline", False, "the diffusers pipeline and its identity adapter, warmed up"),
    ModelPart("upscaler", False, "Real-ESRGAN x4plus (GPU) or its ncnn build (CPU)"),
)
PARTS = tuple(p.name for p in MODEL_PARTS)  # also the order they load in
LIGHT_PARTS = frozenset(p.name for p in MODEL_PARTS if p.light)


def in_load_order(parts: Iterable[str]) -> tuple[str, ...]:
    """``parts`` once each, in :data:`PARTS` order; an unknown name is a ValueError."""
    wanted = set(parts)
    unknown = wanted - set(PARTS)
    if unknown:
        raise ValueError(f"unknown model part(s) {', '.join(sorted(unknown))}: use {PARTS}")
    return tuple(p for p in PARTS if p in wanted)


class ModelLoading(Exception):
    """A model this job needs is still loading: transient, retry later."""


class Models(Protocol):
    """What a job's work uses of the worker's loaded models (engine.runtime.Runtime)."""

    settings: Settings
    gpu_lock: threading.Lock  # one pipeline object is not safe to call from two threads
    upscaler: Any

    def require_pipeline(self) -> LoadedPipeline: ...

    def require_analyzer(self) -> FaceAnalyzer: ...

    def require_pets(self) -> PetModels: ...

    def subject_analyzer(self, subject: Subject, heads: bool = False) -> FaceAnalyzer: ...

    def require_signer(self) -> Any: ...

    def require_safety(self) -> Any: ...

    def safety_screen(self, kind: str = "generate") -> Any: ...

    def require_text_screen(self) -> Any: ...

    def mark_ai(self, png: bytes, *, model: str, seed: int) -> bytes: ...
