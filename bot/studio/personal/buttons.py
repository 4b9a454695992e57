"""The personal model's buttons (one-id family, checked against the owner where read):
``pmo:<set>`` show the offer, ``pmy:<set>`` agree and learn it, ``pmn:<set>`` not now
(the set's id: an offer for a set changed since is stale), ``pmc:<model>`` stop a
training, ``pm1:<model>`` / ``pm0:<model>`` switch a ready model on / off. Its CODECS are
loaded by the one grammar (core/buttons.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.studio.core.buttons import IdCodec, IdPress

OFFER, AGREE, NOT_NOW, CANCEL, ON, OFF = "pmo", "pmy", "pmn", "pmc", "pm1", "pm0"


@dataclass(frozen=True)
class PersonalPress(IdPress):
    kinds = frozenset({OFFER, AGREE, NOT_NOW, CANCEL, ON, OFF})


CODECS = (IdCodec(PersonalPress),)


def personal(kind: str, id_: int) -> str:
    return PersonalPress(kind, id_).data
