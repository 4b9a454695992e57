"""The model families the engine can run, one module each, behind :class:`Family`.

A family is recognised from its model folder's ``model_index.json`` (``_class_name``),
from a known hub id before the model is fetched, or from a tiny model name it builds.
Adding a family: a module here with one :class:`Family` object, its line in
:data:`FAMILIES`, and its licence entry in engine/licence_registry.py.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from engine.families.base import TINY_GRID, Draw, Family, OrderInputs, ReferenceFamily
from engine.families.grids import Grid
from engine.families.klein import KLEIN
from engine.families.qwen_edit import QWEN_EDIT
from engine.families.sdxl import SD15, SDXL
from engine.pipeline.loaded import FAMILY_OBJECTS

__all__ = [
    "DEFAULT",
    "FAMILIES",
    "Draw",
    "Family",
    "OrderInputs",
    "ReferenceFamily",
    "by_class_name",
    "by_name",
    "ensure_tiny_model",
    "for_tiny",
    "is_tiny",
]

FAMILIES: tuple[Family, ...] = (SDXL, SD15, KLEIN, QWEN_EDIT)
FAMILY_OBJECTS.update({f.name: f for f in FAMILIES})  # LoadedPipeline.model_family
DEFAULT = SDXL  # what an unknown model is taken for until its files are here


def by_name(name: str) -> Family:
    for family in FAMILIES:
        if family.name == name:
            return family
    raise ValueError(f"no model family {name!r} ({', '.join(f.name for f in FAMILIES)})")


def by_class_name(class_name: str) -> Family | None:
    return next((f for f in FAMILIES if f.recognises(class_name)), None)


def for_tiny(model: str) -> Family | None:
    """The family that builds the tiny model named ``model``, or None."""
    return next((f for f in FAMILIES if model in f.tiny_models), None)


def tiny_names() -> list[str]:
    return [name for f in FAMILIES for name in f.tiny_models]


def class_names() -> list[str]:
    return [name for f in FAMILIES for name in f.class_names]


def for_hub_id(model: str) -> Family | None:
    """A family known from the repository id alone (before the model is fetched)."""
    return next((f for f in FAMILIES if any(model.startswith(p) for p in f.hub_prefixes)), None)


def is_tiny(model: str) -> bool:
    """A built-in tiny model's name (each family lists those it builds)."""
    return for_tiny(model) is not None


def tiny_folder(model: str, models_dir: Path) -> Path:
    """Where the tiny model ``model`` is (or will be) saved."""
    family = for_tiny(model)
    if family is None:
        raise ValueError(f"{model!r} is not a tiny model name ({', '.join(tiny_names())})")
    return models_dir / "tiny" / f"{family.name}-v{family.tiny_version}"


def ensure_tiny_model(model: str, models_dir: Path) -> Path:
    """The folder of the tiny model named ``model``, built by its family on first use.

    Built in a temporary folder and renamed into place, so workers and tests
    that start together never see half a model.
    """
    target = tiny_folder(model, models_dir)
    if (target / "model_index.json").is_file():
        return target
    family = for_tiny(model)
    assert family is not None  # tiny_folder refused other names
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{family.name}-", dir=target.parent))
    try:
        family.build_tiny(model, tmp / "model")
        try:
            os.rename(tmp / "model", target)
        except OSError:
            if not (target / "model_index.json").is_file():  # lost a race: fine if complete
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def grids() -> dict[str, Grid]:
    """Each family's formats (``Family.grid()``), and the tiny models' (one for all)."""
    return {**{f.name: f.grid() for f in FAMILIES}, "tiny": TINY_GRID}
