"""Following queued work to its end, across restarts (``Studio.run_background``).

Each tick reads from SQLite what is unfinished (orders queued/running or not yet
delivered, upscale/label jobs) and asks arq where each job is. A finished job's
files and rows are stored FIRST, then the message goes out through the
platform's outbox, then the row is marked delivered. So an order that finished
while the bot was down is delivered when it comes back; a crash between the
send and the mark can repeat that one message (at-least-once), never lose it.

A job id Redis no longer knows (its result expired, Redis lost its data) is
re-enqueued up to ``MAX_ENQUEUES`` times, then failed with a message: an order
never stays silently stuck.

The tracker takes the parts it uses (the services, the orders, the follow-ups and
the outboxes), never the studio itself: ``Studio.tracker()`` makes one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from bot.store.moderation_store import ModerationStore
from bot.store.store import Row, now_iso
from bot.studio.core import words
from bot.studio.core import words_chat as w
from bot.studio.core.events import Reply
from bot.studio.core.services import Services
from bot.studio.jobs.delivery import MAX_SEND_FAILS, Delivery
from bot.studio.jobs.pack_delivery import follow_pack
from bot.studio.jobs.progress import EditPacer
from bot.studio.jobs.results import failure_reply, results_reply, variation_columns
from bot.studio.orders.orders import Orders, job_of
from bot.studio.portrait.followups import BY_KIND, FollowUps, is_final
from bot.studio.rights import rights
from sitter import contract as c
from sitter.outage import probe_disk

__all__ = ["MAX_ENQUEUES", "MAX_SEND_FAILS", "Tracker", "variation_columns"]

log = logging.getLogger(__name__)

MAX_ENQUEUES = 3
SWEEP_EVERY_S = 3600.0
RESULT_WAIT_S = 10.0


class Tracker:
    def __init__(
        self, services: Services, orders: Orders, followups: FollowUps, outboxes: Delivery
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

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self.outages.failed(exc, "tracking"):
                    log.exception("tracking: tick failed; trying again")
            await asyncio.sleep(self.s.tick_s)

    async def tick(self) -> None:
        """One pass over everything unfinished (tests call this directly)."""
        if self.outages.active("redis"):
            await self._isolated(self.engine.ping(), "Redis check", 0)
        if self.outages.active("disk"):  # a quiet pass proves nothing about a full disk
            try:
                await asyncio.to_thread(self.disk_probe)
            except OSError as exc:
                self.outages.failed(exc, "disk check")
            else:
                self.outages.succeeded("disk")
        # Each item on its own: one row that keeps failing must not hold up the other
        # orders, the moderators' queue or the retention sweep.
        for order in await self.store.orders_to_follow():
            await self._isolated(self.follow_order(order), "order", order["id"])
        for vj in await self.store.variation_jobs_to_follow():
            await self._isolated(self.follow_variation_job(vj), "follow-up job", vj["id"])
        if self.s.plugin is not None:  # reports that could not reach the moderators yet
            await self._isolated(self.s.plugin.tick(), "moderation", 0)
        if self._last_sweep is None or time.monotonic() - self._last_sweep > SWEEP_EVERY_S:
            self._last_sweep = time.monotonic()
            swept = await rights.sweep(self.store, self.s.settings)  # + audit log
            if any(swept.values()):
                log.info("retention sweep: %s", swept)
        self.outages.passed()

    async def _isolated(self, step: Any, what: str, ident: int) -> None:
        try:
            await step
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not self.outages.failed(exc, f"{what} {ident}"):  # an outage: one line, not one each
                log.exception("tracking: %s %s failed; trying again next pass", what, ident)

    async def send(self, platform: str, chat_id: str | None, reply: Reply) -> bool:
        return await self.outboxes.send(platform, chat_id, reply)

    # --- orders -------------------------------------------------------------------------
    async def follow_order(self, listed: Row) -> None:
        oid = listed["id"]
        # The list was read at the start of the pass: a /cancel (or a ban, a forget)
        # may have changed the order since. Act on what the row says now.
        order = await self.store.order(oid)
        if order is None:
            return
        if order["pack"]:  # one job per look, one album each (bot/studio/jobs/pack_delivery.py)
            await follow_pack(self, order, MAX_ENQUEUES, RESULT_WAIT_S)
            return
        if order["status"] in ("queued", "running"):
            if not order["job_id"]:
                reply = await self._enqueue_order(oid, fresh_job=True)
                if reply is not None:
                    await self.send(order["platform"], order["chat_id"], reply)
                return
            js = await self.engine.state(job_of(order), order["job_id"])
            if js.status == "done":
                await self._collect_order(order)
            elif js.status == "missing":
                await self._lost_order(order)
                return
            else:
                if js.status == "running" and await self.engine.reclaim(order["job_id"]):
                    js = await self.engine.state(job_of(order), order["job_id"])
                if js.status == "running" and order["status"] == "queued":
                    await self.store.set_order(oid, status="running")
                if not self.pacer.due(oid):  # edited a moment ago: the chat can wait
                    return
                note = await self.orders.no_worker_note() if js.status == "queued" else ""
                running = js.status == "running"
                prog = await self.engine.progress(order["job_id"]) if running else None
                text = self.orders.progress_text(oid, js.status, js.position, note, prog)
                if text != order["progress"]:
                    reply = self.orders.progress_reply(oid, text, js.status == "queued")
                    if await self.send(order["platform"], order["chat_id"], reply):
                        await self.store.set_order(oid, progress=text)
                        self.pacer.edited(oid)
                return
        order = await self.store.order(oid)
        if order is None or order["delivered_at"]:
            return
        if order["status"] == "done":
            await self._deliver_results(order)
        elif order["status"] == "failed":
            await self._deliver_failure(order)

    def _person(self, user_id: int) -> asyncio.Lock:
        """The lock the person's chat events hold (Studio.handle): an order is enqueued
        only between two of their events, never while a /forget, a cancel or the placing
        of that very order is half done."""
        return self.s.locks.setdefault(user_id, asyncio.Lock())

    async def _enqueue_order(self, oid: int, *, fresh_job: bool) -> Reply | None:
        """Enqueue under the person's lock, after reading the order again: gone (forgotten),
        no longer active (cancelled) or, for a first enqueue, already given a job by the
        placing of the order: nothing to do."""
        order = await self.store.order(oid)
        if order is None:
            return None
        async with self._person(order["user_id"]):
            order = await self.store.order(oid)
            if order is None or order["status"] not in ("queued", "running"):
                return None
            if fresh_job and order["job_id"]:
                return None
            return await self.orders.enqueue(oid)

    async def _enqueue_follow_up(self, vj_id: int, user_id: int, *, fresh_job: bool) -> None:
        async with self._person(user_id):
            vj = await self.store.variation_job_by_id(vj_id)
            if vj is None or vj["status"] != "queued" or (fresh_job and vj["job_id"]):
                return
            await self.followups.enqueue(vj_id)

    async def _deliver_failure(self, order: Row) -> None:
        if await self.send(order["platform"], order["chat_id"], failure_reply(order)):
            await self.store.set_order(order["id"], delivered_at=now_iso())

    async def _lost_order(self, order: Row) -> None:
        fresh = await self.store.order(order["id"])
        if fresh is None or fresh["status"] not in ("queued", "running"):
            return  # cancelled (its job removed) while this pass ran: nothing to re-queue
        if order["enqueues"] < MAX_ENQUEUES:
            log.warning(
                "order %s: job %s is gone from Redis; enqueueing again",
                order["id"],
                order["job_id"],
            )
            reply = await self._enqueue_order(order["id"], fresh_job=False)
            if reply is not None:
                await self.send(order["platform"], order["chat_id"], reply)
            return
        await self.store.set_order(
            order["id"],
            status="failed",
            finished_at=now_iso(),
            error=words.LOST_SEVERAL_TIMES,
        )

    async def _collect_order(self, order: Row) -> None:
        """Store the finished job's portraits, unless the order was cancelled (or its
        owner banned or forgotten) while its result was read: every write below is
        conditional on the order still being queued or running."""
        handle = self.engine.job(job_of(order), order["job_id"])
        result = await self.engine.result(job_of(order), handle, timeout=RESULT_WAIT_S)
        oid = order["id"]
        if isinstance(result, c.JobFailure):
            if result.code == "lost":
                await self._lost_order(order)
                return
            log.warning("order %s failed (%s): %s", oid, result.code, result.message[:500])
            error = words.failure_words(result.code)  # never the engine's own sentence
            await self.store.finish_order(oid, status="failed", error=error, finished_at=now_iso())
            await self.engine.drop([order["job_id"]])
            return
        assert isinstance(result, c.GenerateResult)
        # Never "your 0 portraits", counted against the quota; all withheld by the safety
        # check is an answer though (told neutrally, with Retry).
        if not result.variations and not result.withheld:
            await self.store.finish_order(
                oid, status="failed", error=words.NO_PORTRAITS, finished_at=now_iso()
            )
            await self.engine.drop([order["job_id"]])
            return
        finished = False
        async with self.store.tx():
            if await self.store.finish_order(oid, status="done", finished_at=now_iso()):
                finished = True
                for idx, v in enumerate(result.variations, 1):
                    rel, sha = self.store.media.put(order["user_id"], "results", v.image, "png")
                    await self.store.add_variation(
                        oid, order["user_id"], idx, v.seed, rel, sha, *variation_columns(v)
                    )
                for withheld in result.withheld:
                    await self._audit_withheld(order, "output_withheld", withheld.model_dump())
        if not finished:
            log.info("order %s: finished after it was cancelled; its portraits are dropped", oid)
        await self.engine.drop([order["job_id"]])  # the portraits now live in the store only

    async def _audit_withheld(self, order: Any, action: str, detail: dict[str, Any]) -> None:
        """The audit log's entry for what the safety check withheld: never the image."""
        await ModerationStore(self.store).log(
            "system",
            action,
            target_user_id=order["user_id"],
            reason="output safety check",
            detail={"order_id": order["id"], **detail},
        )

    async def _deliver_results(self, order: Row) -> None:
        variations = await self.store.variations(order["id"])
        withheld = await self.store.withheld_count(order["id"])
        reply = results_reply(self.s, order, variations, withheld)
        if await self.send(order["platform"], order["chat_id"], reply):
            await self.store.set_order(order["id"], status="delivered", delivered_at=now_iso())
            done = Reply(text=w.order_ready(order["id"]), edit_key=f"order-{order['id']}")
            await self.send(order["platform"], order["chat_id"], done)

    # --- follow-ups (upscale, label) ----------------------------------------------------
    async def follow_variation_job(self, listed: Row) -> None:
        fresh_vj = await self.store.variation_job_by_id(listed["id"])
        if fresh_vj is None:
            return
        # keep the joined columns (platform, chat_id, idx)
        vj: dict[str, Any] = {**dict(listed), **dict(fresh_vj)}
        f = BY_KIND[vj["kind"]]
        if vj["status"] == "queued":
            if not vj["job_id"]:
                await self._enqueue_follow_up(vj["id"], vj["user_id"], fresh_job=True)
                return
            js = await self.engine.state(f.job, vj["job_id"])
            if js.status == "running":
                await self.engine.reclaim(vj["job_id"])
                return
            if js.status == "queued":
                return
            if js.status == "missing":
                await self._lost_follow_up(vj)
                return
            handle = self.engine.job(f.job, vj["job_id"])
            result = await self.engine.result(f.job, handle, timeout=RESULT_WAIT_S)
            if isinstance(result, c.JobFailure):
                if result.code == "lost":
                    await self._lost_follow_up(vj)
                    return
                log.warning("%s %s failed (%s): %s", f.job, vj["id"], result.code, result.message)
                error = words.failure_words(result.code)  # never the engine's own sentence
                if result.code == "withheld":  # the copy did not pass the safety check
                    error = words.copy_withheld(vj["idx"])
                    order = {"id": vj["order_id"], "user_id": vj["user_id"]}
                    await self._audit_withheld(order, "copy_withheld", {"kind": vj["kind"]})
                await self.store.set_variation_job(vj["id"], status="failed", error=error)
                await self.engine.drop([vj["job_id"]])  # its request holds the portrait
            else:
                await self.followups.keep(vj, result)  # its files, or why it was refused
                await self.engine.drop([vj["job_id"]])
        fresh = await self.store.variation_job_by_id(vj["id"])
        if fresh is None or fresh["delivered_at"]:
            return
        if fresh["status"] == "done":
            reply = self.followups.reply(fresh, vj["idx"])
            if await self.send(vj["platform"], vj["chat_id"], reply):
                await self.store.set_variation_job(
                    vj["id"], status="delivered", delivered_at=now_iso()
                )
        elif fresh["status"] == "failed":
            if fresh["error"] == words.copy_withheld(vj["idx"]) or is_final(fresh):
                reply = Reply(text=fresh["error"])  # the same copy again would be withheld too
            else:
                reply = self.followups.failed_reply(
                    vj, vj["idx"], words.stored_failure(fresh["error"])
                )
            if await self.send(vj["platform"], vj["chat_id"], reply):
                await self.store.set_variation_job(vj["id"], delivered_at=now_iso())

    async def _lost_follow_up(self, vj: Row | dict[str, Any]) -> None:
        if vj["enqueues"] < MAX_ENQUEUES:
            await self._enqueue_follow_up(vj["id"], vj["user_id"], fresh_job=False)
        else:
            await self.store.set_variation_job(
                vj["id"], status="failed", error=words.LOST_SEVERAL_TIMES
            )
