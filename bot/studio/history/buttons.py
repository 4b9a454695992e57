"""/portraits' buttons: ``h:<order>`` show that order's results again, ``hp:<order>``
the page of orders older than that one (checked against the owner where read).
Its CODECS are loaded by the one grammar (core/buttons.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.studio.core.buttons import IdCodec, IdPress


@dataclass(frozen=True)
class HistoryPress(IdPress):
    kinds = frozenset({"h", "hp"})


CODECS = (IdCodec(HistoryPress),)


def history(kind: str, order_id: int) -> str:
    return HistoryPress(kind, order_id).data
