"""References for generation tests: an embedding plus the aligned face crop the
identity adapter is fed with (engine.analysis stores one with every accepted photo)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from sitter import contract as c


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def stand_in_crop(seed: int = 0, side: int = 256) -> bytes:
    """A PNG where no real photo is used (embeddings made up by the test)."""
    rng = np.random.default_rng(seed)
    return png(Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)))


def reference_of(analyzer: Any, image: Image.Image) -> c.Reference:
    """A real reference: the largest face's embedding and its aligned crop."""
    image = image.convert("RGB")
    face = analyzer.detect(image)[0]
    return c.Reference(
        embedding=c.Embedding(backend=analyzer.name, vector=face.embedding.tolist()),
        face_crop=png(analyzer.aligned_crop(image, face, 256)),
    )


def made_up(vector: list[float], backend: str = "dlib", seed: int = 0) -> c.Reference:
    """A reference with a made-up embedding and a stand-in crop."""
    return c.Reference(
        embedding=c.Embedding(backend=backend, vector=vector), face_crop=stand_in_crop(seed)
    )
