"""The words of an order's progress message, made when it is sent.

An order's row keeps what its message shows as a code and params
(:class:`bot.store.codes.Shown`); this is the one place that makes the sentence of
each code (from the orders' and packs' own words). A later translation swaps the
words, never a stored row.
"""

from __future__ import annotations

from typing import Any

from bot.store.codes import ProgressCode as P
from bot.store.codes import Shown
from bot.studio.core import words_chat as w
from bot.studio.orders import words_orders as wo
from bot.studio.orders import words_packs as wp
from sitter.heartbeat import minutes_ago


def engine_note(params: dict[str, Any]) -> str:
    """ " The studio's engine is not running..." when the params say no worker is alive
    (``engine_gone``; ``seen``: when one was last seen, epoch seconds or None)."""
    if not params.get("engine_gone"):
        return ""
    seen = params.get("seen")
    return wo.no_worker(minutes_ago(float(seen) if seen is not None else None))


def progress_words(order_id: int, shown: Shown, name: str = "") -> str:
    """The sentence of what the order's progress message shows (``name``: a pack's)."""
    p = shown.params
    code = shown.code
    if code == P.QUEUED:
        return wo.queued_text(order_id, int(p.get("position", 1)), engine_note(p))
    if code == P.PAINTING:
        return w.painting_text(order_id, int(p.get("variations", 0)))
    if code == P.RUNNING:
        return w.painting_progress(
            order_id,
            int(p["total"]),
            int(p["share"]),
            str(p["stage"]),
            [int(x) for x in p.get("done", [])],
            int(p["of"]),
            int(p.get("attempt", 1)),
        )
    if code == P.FINISHING:
        return wo.finishing_text(order_id)
    if code == P.CANCELLED:
        return wo.order_cancelled(order_id)
    if code == P.PACK_QUEUED:
        looks, position = int(p.get("looks", 0)), int(p.get("position", 1))
        return wp.pack_queued(order_id, name, looks, position, engine_note(p))
    if code == P.PACK_PAINTING:
        look, k, n, sent = str(p.get("look", "")), int(p["k"]), int(p["n"]), int(p.get("sent", 0))
        return wp.pack_painting(order_id, name, look, k, n, sent)
    if code == P.PACK_FINISHING:
        return wp.pack_finishing(order_id, name)
    return wp.pack_cancelled(order_id, int(p.get("sent", 0)), int(p.get("stopped", 0)))
