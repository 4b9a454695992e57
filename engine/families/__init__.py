"""The model families the engine can run, one module each, behind :class:`Family`.

A family is recognised from its model folder's ``model_index.json`` (``_class_name``),
from a known hub id before the model is fetched, or from a tiny model name it builds.
Adding a family: a module here with one :class:`Family` object, its line in
:data:`FAMILIES`, and its licence entry in engine/licence_registry.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.families.base import Draw, Family, OrderInputs, ReferenceFamily
from engine.families.klein import KLEIN
from engine.families.qwen_edit import QWEN_EDIT
from engine.families.sdxl import SD15, SDXL

if TYPE_CHECKING:
    from sitter.config import Settings

__all__ = [
    "DEFAULT",
    "FAMILIES",
    "Draw",
    "Family",
    "OrderInputs",
    "ReferenceFamily",
    "by_class_name",
    "by_name",
    "for_tiny",
    "recognise",
]

FAMILIES: tuple[Family, ...] = (SDXL, SD15, KLEIN, QWEN_EDIT)
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


def recognise(settings: Settings) -> Family:
    """The configured model's family, from its model_index.json (ConfigError if none)."""
    from engine.pipeline.loader import detect_family

    return by_name(detect_family(settings))
