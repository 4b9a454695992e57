"""Shared by the face detail tests: a "generated" image with a real face in it.

A tiny random model paints noise, so the image is the real render with
scikit-image's astronaut (CC0) pasted small into it, where dlib finds the face.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage import data

from engine.gate import PersonGate
from engine.likeness import reference_vectors
from engine.pipeline import generate as gen
from engine.runtime import Runtime
from sitter import contract as c

CANVAS = 256


def astronaut() -> Image.Image:
    return Image.fromarray(data.astronaut()).crop((60, 0, 412, 352))


def face_canvas(background: Image.Image | None = None, side: int = 160) -> Image.Image:
    """A 256 px "generated" image: ``background`` (a real render) with a small face in it."""
    canvas = (background or Image.new("RGB", (8, 8), (90, 110, 130))).convert("RGB")
    canvas = canvas.resize((CANVAS, CANVAS), Image.Resampling.NEAREST)
    canvas.paste(astronaut().resize((side, side)), (40, 30))
    return canvas


def make_gate(runtime: Runtime, references: list[c.Reference]) -> PersonGate:
    """The order's likeness gate, built as generate() builds it."""
    refs = reference_vectors(references, "dlib", 128)
    crops = [r.face_crop for r in references]
    return PersonGate.build(runtime.require_analyzer(), refs, crops, c.LikenessGate())


def with_faces(monkeypatch: pytest.MonkeyPatch) -> dict[int, Image.Image]:
    """gen.render's real output, each image with the astronaut pasted in (by seed)."""
    real = gen.render
    made: dict[int, Image.Image] = {}

    def render(*args, **kwargs):
        out = [face_canvas(im) for im in real(*args, **kwargs)]
        made.update(zip(kwargs["seeds"], out, strict=True))
        return out

    monkeypatch.setattr(gen, "render", render)
    return made


def order(references: list[c.Reference], seeds: list[int]) -> c.GenerateRequest:
    return c.GenerateRequest(
        generation_id="g-detail",
        prompt="a portrait",
        seeds=seeds,
        references=references,
        max_attempts=1,
    )


def pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        return np.asarray(im.convert("RGB"))
