"""Tiny pet models for the tests: built from the real transformers classes with random
weights (engine/pets/tiny.py), saved as model folders, loaded by the production loader.

Random weights detect nothing real. ``cat``: a detector whose class heads always say
"cat" with one large box at the picture's top-left (the plumbing runs end to end);
``none``: an untouched random detector, whose scores stay under the threshold (it finds
nothing). Which decision a real photo gets is tested on given boxes instead
(tests/test_pets_engine.py), and measured with real weights by
benchmarks/eval_likeness.py --pets.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from engine.pets.tiny import build_tiny_detector, build_tiny_embedder
from sitter.config import Settings, load_settings


def build(folder: Path) -> dict[str, Path]:
    """The tiny models' folders: detectors ``cat``, ``dog``, ``none`` and the embedder."""
    out = {
        "cat": build_tiny_detector(folder / "det-cat", favour="cat"),
        "dog": build_tiny_detector(folder / "det-dog", favour="dog"),
        "none": build_tiny_detector(folder / "det-none"),
        "embedder": build_tiny_embedder(folder / "emb"),
    }
    return out


def pet_settings(
    folders: dict[str, Path], data: Path, detector: str = "cat", **kw: object
) -> Settings:
    return load_settings(
        data_dir=data,
        face_backend="dlib",
        pet_detector=str(folders[detector]),
        pet_embedder=str(folders["embedder"]),
        **kw,
    )


def png(image: Image.Image | np.ndarray) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def chelsea(scale: int = 2) -> Image.Image:
    """scikit-image's cat photo (451x300), enlarged so the tiny detector's box is large."""
    from skimage import data

    cat = Image.fromarray(data.chelsea())
    return cat.resize((cat.width * scale, cat.height * scale), Image.Resampling.LANCZOS)


def astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())
