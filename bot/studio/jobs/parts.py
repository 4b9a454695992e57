"""What following a job uses, passed by the tracker to each kind's code (orders, pack
looks, follow-ups): the services, the orders, the outboxes and this pass's snapshot;
and :class:`Follower`, the base of every kind's follower (the table: kinds.py).

A plain object made by :class:`bot.studio.jobs.tracking.Tracker`, so a kind's module
(pack_delivery.py) is typed without importing the tracker (no cycle, no ``Any``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bot.store.moderation_store import ModerationStore
from bot.studio.core.events import Reply
from bot.studio.core.services import Services
from bot.studio.jobs.delivery import Delivery
from bot.studio.jobs.progress import Bars, EditPacer, ProgressEdits
from bot.studio.orders.orders import Orders
from bot.studio.portrait.followups import FollowUps
from sitter.engine_client import JobState, JobStatus
from sitter.events import JobEvent, What

log = logging.getLogger("bot.studio.jobs.tracking")

MAX_ENQUEUES = 3
RESULT_WAIT_S = 10.0


@dataclass
class Snapshot:
    """One pass's view of the queue, read once for all jobs (sitter/queue.py ``states``)
    and the "no worker" note, read once when first needed. Outside a pass (an event)
    it is empty and each job's state is asked on its own."""

    states: dict[str, JobState] = field(default_factory=dict)
    note: dict[str, Any] | None = None  # the no-worker note's params ({}: a worker is alive)


_PASS: ContextVar[Snapshot | None] = ContextVar("tracker_pass", default=None)


@dataclass
class Parts:
    s: Services
    orders: Orders
    outboxes: Delivery
    edits: ProgressEdits
    pacer: EditPacer  # one order's progress message: one edit every SITTER_PROGRESS_EDIT_S
    bars: Bars  # each order's bar only moves forward
    followups: FollowUps
    # Per order: the queue position and no-worker note last put (nothing new: no edit).
    shown: dict[int, tuple[int | None, dict[str, Any]]] = field(default_factory=dict)
    # The tracker's: a job of ours left a queue (positions behind it may move).
    started: Callable[[str], None] = lambda job: None

    @property
    def snap(self) -> Snapshot:
        """This pass's snapshot, in the task running the pass only: an event, handled in
        the event task meanwhile, never acts on a state the pass read before the job
        finished (it asks Redis itself)."""
        snap = _PASS.get()
        return snap if snap is not None else Snapshot()

    @snap.setter
    def snap(self, value: Snapshot) -> None:
        _PASS.set(value)

    @property
    def store(self) -> Any:
        return self.s.store

    @property
    def engine(self) -> Any:
        return self.s.engine

    async def send(self, platform: str, chat_id: str | None, reply: Reply) -> bool:
        return await self.outboxes.send(platform, chat_id, reply)

    async def state(self, job: str, job_id: str) -> JobState:
        """The job's state from this pass's snapshot, else asked now."""
        known = self.snap.states.pop(job_id, None)  # used once: a second look asks again
        return known if known is not None else await self.engine.state(job, job_id)

    async def note(self) -> dict[str, Any]:
        """The no-worker note's params, ``{}`` while a worker is alive (read once per
        pass; worded with the progress, bot/studio/jobs/words_progress.py)."""
        snap = self.snap
        if snap.note is None:
            snap.note = await self.orders.engine_gone()
        return snap.note

    def person(self, user_id: int) -> asyncio.Lock:
        """The lock the person's chat events hold (Studio.handle): a job is enqueued only
        between two of their events, never while a /forget, a cancel or the placing of
        that very order is half done."""
        return self.s.locks.setdefault(user_id, asyncio.Lock())

    async def still_lost(self, job: str, job_id: str | None) -> bool:
        """Asked under the person's lock before enqueueing again: the job is still not in
        Redis. Closes the window where the placing of an order has written the job id and
        not yet enqueued (the pass saw "missing"; by now the job is there)."""
        if not job_id:
            return True
        return (await self.engine.state(job, job_id)).status == JobStatus.MISSING

    async def audit_withheld(self, order: Any, action: str, detail: dict[str, Any]) -> None:
        """The audit log's entry for what the safety check withheld: never the image."""
        await ModerationStore(self.store).log(
            "system",
            action,
            target_user_id=order["user_id"],
            reason="output safety check",
            detail={"order_id": order["id"], **detail},
        )


T = TypeVar("T")


class Follower(Generic[T]):
    """How one kind of job is followed from its row to its delivered message: a kind's
    whole code for the tracker, named by its entry in kinds.py. ``T`` is the item the
    kind follows (its row). Subclasses write :meth:`unfinished`, :meth:`one`,
    :meth:`jobs` and :meth:`follow`; the rest has defaults.

    The tracker calls :meth:`follow` under a lock per item (an event and the pass never
    follow the same item at once) and isolates each call (one failing item never holds
    up the others). :meth:`follow` reads the job's state (``self.t.state``: this pass's
    snapshot, else Redis), stores a finished job's result FIRST, then sends the message
    (``self.t.send``), then marks the row delivered; a lost job is enqueued again up to
    ``MAX_ENQUEUES`` times (under ``self.t.person``, after ``self.t.still_lost``), then
    failed with a code (bot/store/codes.py) worded only when sent.
    """

    def __init__(self, t: Parts) -> None:
        self.t = t

    async def unfinished(self) -> Sequence[T]:
        """The safety pass's list: every item queued, running, or finished and not yet
        told (one read for all)."""
        raise NotImplementedError

    async def one(self, ident: int) -> T | None:
        """The item an event's job belongs to, read now (None: not followed any more)."""
        raise NotImplementedError

    async def jobs(self, items: Sequence[T]) -> list[tuple[str, str]]:
        """(arq job name, job id) of these items' jobs, for the pass's one queue read."""
        raise NotImplementedError

    async def follow(self, item: T, fresh: bool) -> None:
        """Move the item on: collect, deliver, enqueue again or fail (``fresh``: just
        read, by an event; else the pass's row, read again before acting)."""
        raise NotImplementedError

    def key(self, item: T) -> int:
        return int(item["id"])  # type: ignore[index]

    def idle(self, item: T) -> bool:
        """Nothing to do this pass, told without a coroutine (the common case of 10,000
        queued orders): False unless a kind knows better."""
        return False

    async def tidy(self) -> None:
        """After the pass's queue read, before the items (a pack: stopped looks)."""

    def waiting(self, items: Sequence[T]) -> list[T]:
        """Of this pass's items, those waiting in the GPU queue that show their place
        (:meth:`show_place` when a job ahead starts)."""
        return []

    async def show_place(self, item: T, position: int | None) -> None:
        """Say the item's new queue position (paced edits)."""

    async def on_event(self, ev: JobEvent, ident: int) -> T | None:
        """A worker's event about this kind's job (``ident``: the row its ``job_id``
        is on, by the kind's entry): the item to follow now, or None. Default: a
        finished job is followed at once."""
        return await self.one(ident) if ev.what == What.DONE else None
