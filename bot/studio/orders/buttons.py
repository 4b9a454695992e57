"""The orders' buttons: ``r:<order>`` retry (new seeds, same order), ``q:<order>``
cancel a queued order. Its CODECS are loaded by the one grammar (core/buttons.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.studio.core.buttons import IdCodec, IdPress


@dataclass(frozen=True)
class OrderPress(IdPress):
    """``r:<order>`` / ``q:<order>`` (checked against the order's owner where read)."""

    kinds = frozenset({"r", "q"})


CODECS = (IdCodec(OrderPress),)


def retry(order_id: int) -> str:
    return OrderPress("r", order_id).data


def cancel(order_id: int) -> str:
    return OrderPress("q", order_id).data
