"""Live progress of an order in its one progress message: the words, and the pace.

The tracker looks at every unfinished order on each tick (a fraction of a second),
and the engine reports each denoising step (engine/progress.py). A chat can't take
an edit that often: Telegram answers a busy chat with flood control (429, then a
wait), Discord rate-limits edits per channel. So one order's message is edited at
most once every ``SITTER_PROGRESS_EDIT_S`` seconds (:class:`EditPacer`), and never
with the text it already shows; the steps in between are skipped, not queued up.
The bar moves per pass: the variations of one pass render in one batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.studio.core import words_chat as w
from sitter import contract as c


def percent(p: c.Progress) -> int:
    """The current pass's share of its steps, in whole percent (0 before a step is known)."""
    return 100 * p.step // p.steps if p.steps else 0


def running_text(order_id: int, p: c.Progress | None, variations: int) -> str:
    """What the progress message says while the order is painted (the bar when known)."""
    if p is None:  # an older engine, or the first step is not written yet
        return w.painting_text(order_id, variations)
    of = p.of or variations
    return w.painting_progress(order_id, of, percent(p), p.stage, list(p.variations), of, p.attempt)


class EditPacer:
    """At most one edit per key every ``every_s`` seconds (in memory: a restarted bot
    starts with a clean slate, which is at most one early edit per order)."""

    def __init__(self, every_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self.clock = clock
        self._last: dict[int, float] = {}

    def due(self, key: int) -> bool:
        last = self._last.get(key)
        return last is None or self.clock() - last >= self.every_s

    def edited(self, key: int) -> None:
        now = self.clock()
        self._last = {k: t for k, t in self._last.items() if now - t < self.every_s}
        self._last[key] = now
