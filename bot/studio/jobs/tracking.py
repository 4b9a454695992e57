"""Following queued work to its end, across restarts (``Studio.run_background``).

Two ways in, one way through:

- **events**: the workers announce ``started``, ``progress`` and ``done`` on a Redis
  stream (sitter/events.py); a task of the tracker reads it with a blocking ``XREAD``
  and follows the job named at once (a finished order's results go out within
  milliseconds of the worker storing them);
- **the safety pass** (:meth:`Tracker.tick`): every ``SAFETY_TICKS`` ticks when the
  engine announces events (every tick when it does not), it reads from SQLite what is
  unfinished and asks arq, once for all jobs (``Engine.states``: every queue position
  in one read), where each job is. It catches what an event missed (a restart, a
  trimmed stream, a failover) and moves queue positions.

Either way a finished job's files and rows are stored FIRST, then the message goes out
through the platform's outbox, then the row is marked delivered. So an order that
finished while the bot was down is delivered when it comes back; a crash between the
send and the mark can repeat that one message (at-least-once), never lose it. Progress
edits never go out inline: they wait in :class:`ProgressEdits`, paced across chats,
behind nothing and holding nothing up.

A job id Redis no longer knows (its result expired, Redis lost its data) is re-enqueued
up to ``MAX_ENQUEUES`` times, then failed with a message: an order never stays silently
stuck. The tracker knows no kind of job: it walks the table of kinds (kinds.py), each
with its follower (a one-style order, a pack's looks, a follow-up); all share
:class:`Parts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from bot.store.store import Row
from bot.studio.core.events import Reply
from bot.studio.core.services import Services
from bot.studio.jobs.delivery import MAX_SEND_FAILS, Delivery
from bot.studio.jobs.kinds import KINDS, JobKind
from bot.studio.jobs.parts import MAX_ENQUEUES, Follower, Parts, Snapshot
from bot.studio.jobs.progress import Bars, EditPacer, ProgressEdits
from bot.studio.jobs.results import variation_columns
from bot.studio.orders.orders import Orders
from bot.studio.portrait.followups import FollowUps
from bot.studio.rights import rights
from sitter import contract as c
from sitter import i18n
from sitter.engine_client import JobStatus
from sitter.events import JobEvent
from sitter.outage import probe_disk

__all__ = ["MAX_ENQUEUES", "MAX_SEND_FAILS", "Tracker", "variation_columns"]

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 3600.0
SAFETY_TICKS = 10  # with events: the safety pass every 10 ticks (5 s at the default 0.5 s)
# The pass rests SAFETY_TICKS only while events come: one seen in the last EVENTS_FRESH_S.
# Workers older than the events announce nothing, and a read that works proves nothing
# about them: without events the pass runs every tick, as it did before them.
EVENTS_FRESH_S = 60.0
EVENT_BLOCK_MS = 1000
YIELD_EVERY = 50  # orders per slice of a pass


class Tracker:
    def __init__(
        self,
        services: Services,
        orders: Orders,
        followups: FollowUps,
        outboxes: Delivery,
        kinds: Sequence[JobKind] = KINDS,
    ):
        self.s = services
        self.store = services.store
        self.engine = services.engine
        self.orders = orders
        self.followups = followups
        self.outboxes = outboxes
        self.outages = services.outages
        self._last_sweep: float | None = None  # sweep on the first pass (monotonic may be < 1 h)
        self.disk_probe: Callable[[], None] = partial(probe_disk, self.store.media.root)
        # One order's progress message: at most one edit every SITTER_PROGRESS_EDIT_S.
        self.pacer = EditPacer(services.settings.progress_edit_s)
        self.edits = ProgressEdits(
            self.send_edit, self.store.orders_in_flight, self.store.set_progress, self.pacer
        )
        self.parts = Parts(services, orders, outboxes, self.edits, self.pacer, Bars(), followups)
        self.parts.started = self._started
        self.edits.on_failed = lambda oid: self.parts.shown.pop(oid, None)
        # Each kind of job the tracker follows (the table: kinds.py), and its follower.
        self.kinds = tuple(kinds)
        self.followers: dict[str, Follower[Any]] = {k.name: k.follower(self.parts) for k in kinds}
        self.listening = False  # the event task runs and its last read worked
        self.edits_task = False  # run() has a task that flushes the progress edits
        self._event_at: float | None = None  # monotonic time of the last event read
        self.moved = asyncio.Event()  # a job started: queue positions moved
        self._busy: dict[tuple[str, int], asyncio.Lock] = {}
        # Per kind, its items waiting in the GPU queue at the last pass (their places).
        self._waiting_by: dict[str, list[Any]] = {}
        self._last_pass = 0.0
        self._events_idle = asyncio.Event()
        self._events_idle.set()

    # --- the loops --------------------------------------------------------------------------
    async def run(self) -> None:
        tasks = [asyncio.create_task(self.edits.run(), name="progress edits")]
        self.edits_task = True
        if getattr(self.engine, "announces", False):
            tasks.append(asyncio.create_task(self.listen(), name="job events"))
            self.listening = True
        moved = False
        try:
            while True:
                try:
                    await (self.positions() if moved else self.tick())
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if not self.outages.failed(exc, "tracking"):
                        log.exception("tracking: tick failed; trying again")
                moved = await self._rest()
        finally:
            self.listening = self.edits_task = False
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            close = getattr(self.engine, "close_events", None)
            if close is not None:  # the event read's own connection
                await close()

    async def _rest(self) -> bool:
        """Until the next safety pass; True when a job started first (positions moved:
        :meth:`positions` shows them without a whole pass)."""
        wait = self.s.tick_s * (SAFETY_TICKS if self.events_come() else 1)
        if self.outages.active("redis"):
            wait = self.s.tick_s  # the event read is down too: poll as before
        if time.monotonic() - self._last_pass > wait:
            return False
        try:
            await asyncio.wait_for(self.moved.wait(), wait)
        except TimeoutError:
            return False
        self.moved.clear()
        return True

    def events_come(self) -> bool:
        """The event read works and brought an event lately: the pass may rest long."""
        at = self._event_at
        return self.listening and at is not None and time.monotonic() - at < EVENTS_FRESH_S

    async def listen(self) -> None:
        """Read the workers' job events and act on each at once. A read that fails with
        anything but an outage (a Redis without streams: "unknown command XREAD", a key
        of another type) is logged once, and the pass polls every tick until a read
        works again."""
        last: str | None = None
        while True:
            try:
                if last is None:
                    last = await self.engine.newest_event()
                last, events = await self.engine.events(last, EVENT_BLOCK_MS)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self.outages.failed(exc, "job events") and self.listening:
                    log.exception("tracking: job events can't be read; polling every tick")
                self.listening = False  # the safety pass carries on, every tick
                await asyncio.sleep(self.s.tick_s)
                continue
            if not self.listening:
                log.info("tracking: job events are read again")
                self.listening = True
            if events:
                self._event_at = time.monotonic()
            self._events_idle.clear()  # a pass pauses between two slices meanwhile
            try:
                for ev in events:
                    await self._isolated(self.on_event(ev), "event", 0)
            finally:
                self._events_idle.set()

    async def on_event(self, ev: JobEvent) -> None:
        owner = await self.store.job_owner(ev.job_id, [k.source for k in self.kinds])
        if owner is None:
            return  # not the studio's to follow (a screen of typed answers, a photo check)
        kind, ident = owner
        item = await self.followers[kind].on_event(ev, ident)
        if item is not None:
            await self.follow(kind, item, fresh=True)

    @property
    def _waiting(self) -> list[Any]:
        """Every item that waited in the GPU queue at the last pass."""
        return [item for items in self._waiting_by.values() for item in items]

    def _started(self, job: str) -> None:
        """A job of ours started: when it left the GPU queue that orders wait in and some
        wait, everyone behind it moved up (:meth:`positions` says so). A fast job (a
        label, an avatar, a typed answer's screen) moves nobody's place."""
        if self._waiting and c.queue_for(job) == c.QUEUE_GPU:
            self.moved.set()

    # --- the safety pass --------------------------------------------------------------------
    async def tick(self) -> None:
        """One pass over everything unfinished (tests call this directly)."""
        self._last_pass = time.monotonic()
        if self.outages.active("redis"):
            await self._isolated(self.engine.ping(), "Redis check", 0)
        if self.outages.active("disk"):  # a quiet pass proves nothing about a full disk
            try:
                await asyncio.to_thread(self.disk_probe)
            except OSError as exc:
                self.outages.failed(exc, "disk check")
            else:
                self.outages.succeeded("disk")
        listed: list[tuple[JobKind, Follower[Any], Sequence[Any]]] = []
        jobs: list[tuple[str, str]] = []
        for kind in self.kinds:
            follower = self.followers[kind.name]
            items = await follower.unfinished()
            listed.append((kind, follower, items))
            jobs += await follower.jobs(items)
        self.parts.snap = Snapshot()
        await self._isolated(self._snapshot(jobs), "queue read", 0)
        for kind, follower, _ in listed:
            await self._isolated(follower.tidy(), f"{kind.name} tidy", 0)
        # Each item on its own: one row that keeps failing must not hold up the other
        # orders, the moderators' queue or the retention sweep.
        idle = self._events_idle
        n = 0
        for kind, follower, items in listed:
            for item in items:
                n += 1
                if n % YIELD_EVERY == 0 or not idle.is_set():  # a delivery goes first
                    await self._let_events_first()
                if follower.idle(item):  # the common case, without a coroutine
                    continue
                await self._isolated(self.follow(kind.name, item), kind.name, follower.key(item))
            self._waiting_by[kind.name] = follower.waiting(items)
        self.parts.snap = Snapshot()
        if self.s.plugin is not None:  # reports that could not reach the moderators yet
            await self._isolated(self.s.plugin.tick(), "moderation", 0)
        if self._last_sweep is None or time.monotonic() - self._last_sweep > SWEEP_EVERY_S:
            self._last_sweep = time.monotonic()
            swept = await rights.sweep(self.store, self.s.settings)  # + audit log
            if any(swept.values()):
                log.info("retention sweep: %s", swept)
        if not self.edits_task:  # run() has a task for them; called alone (tests): now
            await self._isolated(self.edits.flush(), "progress edits", 0)
        self.outages.passed()

    async def _let_events_first(self) -> None:
        """Between two slices of a pass: an event being handled (a delivery) goes first."""
        await asyncio.sleep(0)
        await self._events_idle.wait()

    async def positions(self) -> None:
        """A job started, so every item behind it moved up: their places, from the
        queue's one read and the items the last pass saw waiting (no database read;
        anything else that changed is the events' and the next pass's)."""
        waiting = [
            (self.followers[name], item)
            for name, items in self._waiting_by.items()
            for item in items
        ]
        jobs: list[tuple[str, str]] = []
        for name, items in self._waiting_by.items():
            jobs += await self.followers[name].jobs(items)
        self.parts.snap = Snapshot()
        self.parts.snap.states = await self.engine.states(jobs)
        idle = self._events_idle
        for n, (follower, item) in enumerate(waiting, 1):
            if n % YIELD_EVERY == 0 or not idle.is_set():
                await self._let_events_first()
            if item["job_id"] and not follower.idle(item):
                js = self.parts.snap.states.get(item["job_id"])
                if js is not None and js.status == JobStatus.QUEUED:
                    await follower.show_place(item, js.position)
        self.parts.snap = Snapshot()
        if not self.edits_task:
            await self.edits.flush()

    async def _snapshot(self, jobs: list[tuple[str, str]]) -> None:
        self.parts.snap.states = await self.engine.states(jobs)

    async def _isolated(self, step: Awaitable[Any], what: str, ident: int) -> None:
        try:
            await step
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not self.outages.failed(exc, f"{what} {ident}"):  # an outage: one line, not one each
                log.exception("tracking: %s %s failed; trying again next pass", what, ident)

    async def send(self, platform: str, chat_id: str | None, reply: Reply) -> bool:
        return await self.outboxes.send(platform, chat_id, reply)

    async def send_edit(self, platform: str, chat_id: str | None, reply: Reply) -> bool:
        """A progress edit: its failures back off apart from the chat's results."""
        return await self.outboxes.send(platform, chat_id, reply, edit=True)

    @contextlib.asynccontextmanager
    async def _one_at_a_time(self, key: tuple[str, int]) -> AsyncIterator[None]:
        """An event and the pass never follow the same item at once (no double send)."""
        lock = self._busy.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and self._busy.get(key) is lock:
                del self._busy[key]

    # --- following one item ------------------------------------------------------------
    async def follow(self, kind: str, item: Any, *, fresh: bool = False) -> None:
        """Follow one item of a kind (a row from the pass's list is read again before
        anything is done with it: a /cancel may have come since; ``fresh``: it was just
        read, by an event)."""
        follower = self.followers[kind]
        async with self._one_at_a_time((kind, follower.key(item))):
            with i18n.use(await self._locale_of(item)):  # the tracker speaks unasked
                await follower.follow(item, fresh)

    async def _locale_of(self, item: Any) -> str | None:
        """The language of the person an item (an order, a follow-up job) belongs to."""
        try:
            user_id = item["user_id"]
        except (KeyError, IndexError, TypeError):
            return None
        user = await self.store.user_by_id(user_id)
        return user["locale"] if user is not None else None

    async def follow_order(self, order: Row, *, fresh: bool = False) -> None:
        await self.follow("pack" if order["pack"] else "order", order, fresh=fresh)

    async def follow_variation_job(self, vj: Row) -> None:
        await self.follow("followup", vj)
