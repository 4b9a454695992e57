"""A pet as the face analyzer's interface (engine/faces/base.py), for one species.

"Faces" here are the animals of one species the detector finds, each with its crop's
DINOv2 embedding, so what compares faces compares pets unchanged: the set's one-animal
rule by the majority (engine/identity.py), the likeness gate with its copy checks
(engine/gate.py), the avatar's centring (engine/avatar.py).

The similarity is the embeddings' cosine, clipped to 0..1. ``SAME_PET`` is NOT
calibrated: DINOv2 places two photos of one cat close, but so are two cats of one
breed and coat. ``benchmarks/eval_likeness.py --pets`` measures it on a GPU box with
real weights and labelled pet photos; until then the pet gate is lenient (its reason
says so) and the set check only catches a clearly different animal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from engine.faces.base import Face
from engine.pets.models import Detection, PetModels
from sitter.contract import Subject

# Cosine of DINOv2-small CLS embeddings; uncalibrated (see the module doc).
SAME_PET = 0.55
CROP_MARGIN = 0.08  # the crop reaches this share of the box beyond it on each side
HEAD_SHARE = 0.55  # the avatar's circle: the upper part of the animal's box (its head)


def crop_box(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A square around the animal's box with a small margin, kept inside the picture
    (a box wider than the picture's shorter side is cut to it, centred)."""
    width, height = size
    left, top, right, bottom = box
    side = round(max(right - left, bottom - top) * (1 + 2 * CROP_MARGIN))
    side = max(1, min(side, width, height))
    cx, cy = (left + right) / 2, (top + bottom) / 2
    x0 = int(min(max(cx - side / 2, 0), width - side))
    y0 = int(min(max(cy - side / 2, 0), height - side))
    return x0, y0, x0 + side, y0 + side


def head_box(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Where the head most likely is: a square at the top centre of the animal's box.

    COCO detectors box the whole animal, not its head; a sitting or standing pet's head is
    at the top of its box. A pet lying on its side is centred on its body instead."""
    left, top, right, bottom = box
    side = round(min(right - left, bottom - top) * HEAD_SHARE) or 1
    cx = (left + right) // 2
    return cx - side // 2, top, cx - side // 2 + side, top + side


def as_face(d: Detection, embedding: np.ndarray | None) -> Face:
    """A detection in the face analyzer's terms (no landmarks: an animal has none here)."""
    return Face(
        box=d.box,
        score=d.score,
        landmarks=np.zeros((0, 2), np.float32),
        embedding=embedding,
    )


@dataclass
class PetAnalyzer:
    """The :class:`engine.faces.base.FaceAnalyzer` of one species' pets."""

    pets: PetModels
    species: Subject
    same_person_threshold: float = SAME_PET
    # True: each "face" is the animal's head (:func:`head_box`), not embedded: what the
    # avatar job centres its circle on (engine/avatar.py).
    heads: bool = False
    name: str = field(init=False)  # the embeddings' backend, e.g. "dinov2:facebook/dinov2-small"

    def __post_init__(self) -> None:
        self.name = self.pets.backend

    def animals(self, image: Image.Image) -> list[Detection]:
        """This species' detections, largest first."""
        found = [d for d in self.pets.detect(image) if d.label == self.species.value]
        return sorted(found, key=lambda d: -d.area)

    def detect(self, image: Image.Image) -> list[Face]:
        image = image.convert("RGB")
        out = []
        for d in self.animals(image):
            if self.heads:
                out.append(as_face(Detection(d.label, d.score, head_box(d.box)), None))
                continue
            crop = image.crop(crop_box(d.box, image.size))
            out.append(as_face(d, self.pets.embed(crop)))
        return out

    def similarity(self, a: np.ndarray, b: np.ndarray) -> float:
        a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
        cos = float(a @ b / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-9))
        return min(1.0, max(0.0, cos))

    def aligned_crop(self, image: Image.Image, face: Face, size: int = 256) -> Image.Image:
        """The animal's square crop at ``size`` (not rotated: no landmarks)."""
        crop = image.convert("RGB").crop(crop_box(face.box, image.size))
        return crop.resize((size, size), Image.Resampling.LANCZOS)
