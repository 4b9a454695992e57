"""The pets' button family: ``pt:<set id>`` collects photos into that set (a pet's, or
the person's own), checked against its owner where it is read (pets.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.studio.core.buttons import IdCodec, IdPress

SET = "pt"


@dataclass(frozen=True)
class PetPress(IdPress):
    kinds: ClassVar[frozenset[str]] = frozenset({SET})


def collect(set_id: int) -> str:
    return PetPress(SET, set_id).data


CODECS = (IdCodec(PetPress),)
