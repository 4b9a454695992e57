"""The face-analysis interface both backends implement (dlib, insightface)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from PIL import Image


@dataclass
class Face:
    box: tuple[int, int, int, int]  # left, top, right, bottom in image pixels
    score: float  # detector confidence (backend-specific scale)
    landmarks: np.ndarray  # (N, 2) float32, image pixels
    embedding: np.ndarray | None = None  # L2-normalised identity vector
    # (insightface's normed_embedding is; dlib's 128-d descriptor is kept raw, norm about
    # 1.4, as its distance rule expects: compare embeddings only through similarity())
    yaw: float | None = None  # degrees, when the backend estimates pose
    pitch: float | None = None
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


class FaceAnalyzer(Protocol):
    """Detect faces, embed them, and say how to compare embeddings."""

    name: str  # e.g. "dlib" or "insightface:buffalo_l"; stored with every embedding
    same_person_threshold: float  # similarity at or above which two faces are one person

    def detect(self, image: Image.Image) -> list[Face]:
        """All faces with landmarks and embeddings, largest first. ``image`` is RGB."""
        ...

    def similarity(self, a: np.ndarray, b: np.ndarray) -> float:
        """0..1, higher is more alike; comparable with ``same_person_threshold``."""
        ...

    def aligned_crop(self, image: Image.Image, face: Face, size: int = 256) -> Image.Image:
        """The face rotated upright, centred and scaled, for image-based adapters."""
        ...
