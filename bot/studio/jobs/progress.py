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

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.store.codes import ProgressCode, Shown
from bot.studio.core.events import Reply
from bot.studio.jobs.words_progress import progress_words
from sitter import contract as c
from sitter import i18n

log = logging.getLogger("bot.studio.jobs.tracking")

# How far the whole job is, per stage: the first render, then the face detail pass, then
# any re-render for a closer likeness and its detail pass. Each pass's own steps fill its
# band, so the bar only moves forward (issue 22: 100% "again for a closer likeness", then
# 20%). Passes after those share the last band; :class:`Bars` keeps the bar from going
# back within it.
_BANDS = {
    ("render", 1): (0, 70),
    ("detail", 1): (70, 85),
    ("render", 2): (85, 92),
    ("detail", 2): (92, 95),
}
_LAST_BAND = (95, 99)


def percent(p: c.Progress) -> int:
    """The current pass's share of its steps, in whole percent (0 before a step is known)."""
    return 100 * p.step // p.steps if p.steps else 0


def overall(p: c.Progress) -> int:
    """The whole job's share, in whole percent: the pass's steps within its stage's band
    (never 100 before the portraits are in)."""
    lo, hi = _BANDS.get((p.stage, p.attempt), _LAST_BAND)
    return lo + (hi - lo) * percent(p) // 100


class Bars:
    """The share each order's bar last showed: a bar never goes back (a third pass
    within the last band, or reports read out of order). In memory: a restarted bot
    starts again from what the engine reports."""

    def __init__(self) -> None:
        self._shown: dict[int, int] = {}

    def share(self, order_id: int, p: c.Progress) -> int:
        now = max(overall(p), self._shown.get(order_id, 0))
        self._shown[order_id] = now
        return now

    def forget(self, order_id: int) -> None:
        self._shown.pop(order_id, None)


def running_shown(
    p: c.Progress | None, variations: int, bars: Bars | None = None, oid: int = 0
) -> Shown:
    """What the progress message shows while the order is painted (the bar when known;
    ``oid``: the order whose bar only moves forward in ``bars``)."""
    if p is None:  # an older engine, or the first step is not written yet
        return Shown(ProgressCode.PAINTING, {"variations": variations})
    of = p.of or variations
    share = bars.share(oid, p) if bars is not None else overall(p)
    params = {"total": of, "share": share, "stage": p.stage, "done": list(p.variations)}
    return Shown(ProgressCode.RUNNING, {**params, "of": of, "attempt": p.attempt})


def running_text(
    order_id: int, p: c.Progress | None, variations: int, bars: Bars | None = None
) -> str:
    """The words of :func:`running_shown` (the bar when known)."""
    return progress_words(order_id, running_shown(p, variations, bars, order_id))


class EditPacer:
    """At most one edit per key every ``every_s`` seconds (in memory: a restarted bot
    starts with a clean slate, which is at most one early edit per order)."""

    def __init__(self, every_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self.clock = clock
        self._last: dict[int, float] = {}
        self._prune_at = 1024

    def due(self, key: int) -> bool:
        last = self._last.get(key)
        return last is None or self.clock() - last >= self.every_s

    def edited(self, key: int) -> None:
        """Note an edit (old entries are pruned now and then, not on every edit)."""
        now = self.clock()
        self._last[key] = now
        if len(self._last) > self._prune_at:
            self._last = {k: t for k, t in self._last.items() if now - t < self.every_s}
            self._prune_at = max(1024, 2 * len(self._last))


Edit = Callable[[], tuple[Reply, Shown]]  # made when sent: (the edit, what it shows)


@dataclass
class _Edit:
    platform: str
    chat_id: str
    make: Edit


class ProgressEdits:
    """Progress messages waiting to be sent, newest per order, paced across chats.

    The tracker only puts an edit here (a dict write; its words are made when it is
    sent, so a thousand positions that move cost a thousand dict writes) and goes on:
    results are sent by the tracker itself, never behind an edit. :meth:`flush` sends
    what the pace allows now, without waiting: at most ``per_s`` edits a second over all
    chats (Telegram takes about 30 a second per bot, Discord about 50) and, per order,
    the :class:`EditPacer`'s one every ``SITTER_PROGRESS_EDIT_S``. Before a batch is sent
    the orders still in flight are read once with what each message shows, so a cancel
    that came in meanwhile is never overwritten by a stale "queued" and an unchanged
    text is not sent again; after the batch the texts sent are stored in one write.
    """

    def __init__(
        self,
        send: Callable[[str, str, Reply], Awaitable[bool]],
        in_flight: Callable[[list[int]], Awaitable[dict[int, Shown | None]]],
        store_texts: Callable[[list[tuple[int, Shown]]], Awaitable[None]],
        pacer: EditPacer,
        per_s: float = 25.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send, self._in_flight, self._store_texts = send, in_flight, store_texts
        self.on_failed: Callable[[int], object] = lambda _oid: None  # not sent: say again later
        self.pacer, self.per_s, self.clock = pacer, per_s, clock
        self.pending: dict[int, _Edit] = {}
        self._tokens = per_s
        self._at = clock()
        self.wake = asyncio.Event()

    def put(self, order_id: int, platform: str, chat_id: str, make: Edit) -> None:
        # A replaced edit keeps its place in the line (a dict keeps where a key was put
        # first): a running order's bar must not starve behind a thousand new edits.
        locale = i18n.current()  # made later, by the flusher: in the person's language

        def made() -> tuple[Reply, Shown]:
            with i18n.use(locale):
                return make()

        self.pending[order_id] = _Edit(platform, chat_id, made)
        self.wake.set()

    def text(self, order_id: int) -> str | None:
        """The text waiting to be sent for this order (None: nothing waits)."""
        edit = self.pending.get(order_id)
        return edit.make()[0].text if edit is not None else None

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.per_s, self._tokens + (now - self._at) * self.per_s)
        self._at = now

    async def flush(self) -> int:
        """Send the edits the pace allows now; returns how many went out."""
        self._refill()
        due: list[int] = []
        for k in self.pending:  # oldest first; stops as soon as the pace is used up
            if len(due) >= int(self._tokens):
                break
            if self.pacer.due(k):
                due.append(k)
        if not due:
            return 0
        live = await self._in_flight(due)
        shown: list[tuple[int, Shown]] = []
        for oid in due:
            # Taken out only now, with no await before its send: a results delivery that
            # came while an earlier send (or the read above) awaited took the order's
            # edit out (order_follow.py, pack_delivery.py), and a delivered order's
            # message must not go back to "painting".
            edit = self.pending.pop(oid, None)
            if edit is None or oid not in live:
                continue  # delivered, cancelled or finished meanwhile: it says so itself
            reply, what = edit.make()
            if what == live[oid]:
                continue  # the message says so already
            self._tokens -= 1
            if await self._send(edit.platform, edit.chat_id, reply):
                shown.append((oid, what))
                self.pacer.edited(oid)
            else:
                self.on_failed(oid)
        if shown:
            await self._store_texts(shown)  # one write for the batch (codes, not words)
        return len(shown)

    async def run(self) -> None:
        """Flush as the pace allows, for as long as the tracker runs."""
        while True:
            if not self.pending:
                self.wake.clear()
                await self.wake.wait()
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("progress edits: a flush failed; trying again")
            if self.pending:
                await asyncio.sleep(max(0.02, 1.0 / self.per_s))
