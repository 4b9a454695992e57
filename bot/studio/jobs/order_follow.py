"""Following one-style orders (a portrait order, a vary, a relight): the ``order`` kind
of job (bot/studio/jobs/kinds.py). Its queue position and bar go to the paced progress
edits; a finished job's portraits are stored, then sent, then the order is marked
delivered; a job Redis lost is enqueued again (under the person's lock, only if it is
still lost) up to MAX_ENQUEUES times."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence

from bot.store.codes import IN_FLIGHT, OrderStatus, Shown
from bot.store.store import Row, now_iso
from bot.studio.core import words_chat as w
from bot.studio.core.events import Reply
from bot.studio.jobs import words_failures as wf
from bot.studio.jobs.parts import MAX_ENQUEUES, RESULT_WAIT_S, Follower
from bot.studio.jobs.progress import running_shown
from bot.studio.jobs.results import failure_reply, results_reply, variation_columns
from bot.studio.jobs.words_progress import progress_words
from bot.studio.orders.orders import VARIATIONS, job_of
from bot.studio.together import joint
from sitter import contract as c
from sitter.engine_client import JobStatus
from sitter.events import JobEvent, What

log = logging.getLogger("bot.studio.jobs.tracking")


class OrderFollower(Follower[Row]):
    """One-style orders: one job each (``job_of``: generate, or a vary's or relight's)."""

    async def unfinished(self) -> Sequence[Row]:
        return await self.t.store.orders_to_follow(packs=False)

    async def one(self, ident: int) -> Row | None:
        return await self.t.store.order(ident)

    async def jobs(self, items: Sequence[Row]) -> list[tuple[str, str]]:
        return [(job_of(o), o["job_id"]) for o in items if o["job_id"]]

    def idle(self, order: Row) -> bool:
        """Still queued, and edited a moment ago or its place and note said already."""
        js = self.t.snap.states.get(order["job_id"]) if order["job_id"] else None
        if js is None or js.status != JobStatus.QUEUED or order["status"] != OrderStatus.QUEUED:
            return False
        if not self.t.pacer.due(order["id"]):
            return True
        note = self.t.snap.note  # None until the pass first needs it: then follow reads it
        return note is not None and self.t.shown.get(order["id"]) == (js.position, note)

    def waiting(self, items: Sequence[Row]) -> list[Row]:
        return [o for o in items if o["status"] == OrderStatus.QUEUED]

    async def show_place(self, order: Row, position: int | None) -> None:
        await self.show_state(order, JobStatus.QUEUED, position)

    async def on_event(self, ev: JobEvent, ident: int) -> Row | None:
        if ev.what == What.STARTED:
            self.t.started(c.JOB_GENERATE)  # vary, relight: the same queue
        order = await self.t.store.order(ident)
        if order is None:
            return None
        if ev.what == What.PROGRESS:
            if order["status"] in IN_FLIGHT:
                with contextlib.suppress(ValueError):
                    self.show_running(order, c.Progress.model_validate_json(ev.body))
            return None
        return order  # started (its bar) or done (its results)

    async def follow(self, order: Row, fresh: bool) -> None:
        oid = order["id"]
        if order["status"] in IN_FLIGHT:
            if not order["job_id"]:
                reply = await self._enqueue_order(oid, lost_job=None)
                if reply is not None:
                    await self.t.send(order["platform"], order["chat_id"], reply)
                return
            js = await self.t.state(job_of(order), order["job_id"])
            if js.status == JobStatus.RUNNING and await self.t.engine.reclaim(order["job_id"]):
                js = await self.t.engine.state(job_of(order), order["job_id"])
            if js.status in (
                JobStatus.QUEUED,
                JobStatus.RUNNING,
            ):  # the common case: no SELECT, no send
                await self.show_state(order, js.status, js.position)
                return
            if not fresh and (order := await self.t.store.order(oid)) is None:
                return
            if order["status"] not in IN_FLIGHT:
                pass  # cancelled (or finished by an event) since the pass began
            elif js.status == JobStatus.DONE:
                await self._collect_order(order)
            else:
                await self._lost_order(order)
                return
        order = await self.t.store.order(oid)
        if order is not None and order["status"] == OrderStatus.DELIVERED:
            await joint.deliver_partner(self.t.s, self.t.send, order)  # a copy not sent yet
        if order is None or order["delivered_at"]:
            return
        if order["status"] == OrderStatus.DONE:
            await self._deliver_results(order)
        elif order["status"] == OrderStatus.FAILED:
            await self._deliver_failure(order)

    async def show_state(self, order: Row, status: str, position: int | None) -> None:
        oid = order["id"]
        if status == JobStatus.RUNNING and order["status"] == OrderStatus.QUEUED:
            await self.t.store.mark_running(oid)  # only while still queued (not cancelled)
        if not self.t.pacer.due(oid):  # edited a moment ago: the chat can wait
            return
        if status == JobStatus.RUNNING:
            self.show_running(order, await self.t.engine.progress(order["job_id"]))
            return
        note = await self.t.note()
        if self.t.shown.get(oid) == (position, note):
            return  # put already (sent, or waiting its turn): nothing new to say
        self.t.shown[oid] = (position, note)

        def make() -> tuple[Reply, Shown]:  # the words when it is sent, not for every move
            shown = self.t.orders.progress_shown(JobStatus.QUEUED, position, note)
            return self.t.orders.progress_reply(oid, progress_words(oid, shown), True), shown

        self.t.edits.put(oid, order["platform"], order["chat_id"], make)

    def show_running(self, order: Row, prog: c.Progress | None) -> None:
        oid = order["id"]
        self.t.shown.pop(oid, None)
        shown = running_shown(prog, VARIATIONS, self.t.bars, oid)
        if shown != Shown.read(order["progress_code"], order["progress_params"]):

            def make() -> tuple[Reply, Shown]:  # the words when it is sent
                text = progress_words(oid, shown)
                return self.t.orders.progress_reply(oid, text, False), shown

            self.t.edits.put(oid, order["platform"], order["chat_id"], make)

    async def _enqueue_order(self, oid: int, *, lost_job: str | None) -> Reply | None:
        """Enqueue under the person's lock, after reading the order again: gone (forgotten),
        no longer active (cancelled), for a first enqueue already given a job by the
        placing of the order, or for a lost job no longer lost: nothing to do."""
        order = await self.t.store.order(oid)
        if order is None:
            return None
        async with self.t.person(order["user_id"]):
            order = await self.t.store.order(oid)
            if order is None or order["status"] not in IN_FLIGHT:
                return None
            if order["job_id"] != lost_job:  # a job given meanwhile (first enqueue or not)
                return None
            if lost_job and not await self.t.still_lost(job_of(order), lost_job):
                return None  # the placing enqueued it while this pass looked
            if lost_job:
                log.warning("order %s: job %s is gone from Redis; enqueueing again", oid, lost_job)
            return await self.t.orders.enqueue(oid)

    async def _deliver_failure(self, order: Row) -> None:
        if await self.t.send(order["platform"], order["chat_id"], failure_reply(order)):
            await self.t.store.set_order(order["id"], delivered_at=now_iso())

    async def _lost_order(self, order: Row) -> None:
        if order["enqueues"] < MAX_ENQUEUES:
            reply = await self._enqueue_order(order["id"], lost_job=order["job_id"])
            if reply is not None:
                await self.t.send(order["platform"], order["chat_id"], reply)
            return
        await self.t.store.finish_order(
            order["id"],
            status=OrderStatus.FAILED,
            finished_at=now_iso(),
            error=wf.LOST_SEVERAL_TIMES,
        )

    async def _collect_order(self, order: Row) -> None:
        """Store the finished job's portraits, unless the order was cancelled (or its
        owner banned or forgotten) while its result was read: every write below is
        conditional on the order still being queued or running."""
        handle = self.t.engine.job(job_of(order), order["job_id"])
        result = await self.t.engine.result(job_of(order), handle, timeout=RESULT_WAIT_S)
        oid = order["id"]
        if isinstance(result, c.JobFailure):
            if result.code == c.FailureCode.LOST:
                await self._lost_order(order)
                return
            log.warning("order %s failed (%s): %s", oid, result.code, result.message[:500])
            error = wf.engine_failure(result.code)  # its code; never its own sentence
            await self.t.store.finish_order(
                oid, status=OrderStatus.FAILED, error=error, finished_at=now_iso()
            )
            await self.t.engine.drop([order["job_id"]])
            return
        assert isinstance(result, c.GenerateResult)
        # Never "your 0 portraits", counted against the quota; all withheld by the safety
        # check is an answer though (told neutrally, with Retry).
        if not result.variations and not result.withheld:
            await self.t.store.finish_order(
                oid, status=OrderStatus.FAILED, error=wf.NO_PORTRAITS, finished_at=now_iso()
            )
            await self.t.engine.drop([order["job_id"]])
            return
        finished = False
        async with self.t.store.tx():
            if await self.t.store.finish_order(oid, status=OrderStatus.DONE, finished_at=now_iso()):
                finished = True
                for idx, v in enumerate(result.variations, 1):
                    rel, sha = self.t.store.media.put(order["user_id"], "results", v.image, "png")
                    await self.t.store.add_variation(
                        oid, order["user_id"], idx, v.seed, rel, sha, *variation_columns(v)
                    )
                for withheld in result.withheld:
                    await self.t.audit_withheld(order, "output_withheld", withheld.model_dump())
        if not finished:
            log.info("order %s: finished after it was cancelled; its portraits are dropped", oid)
        await self.t.engine.drop([order["job_id"]])  # the portraits now live in the store only

    async def _deliver_results(self, order: Row) -> None:
        variations = await self.t.store.variations(order["id"])
        withheld = await self.t.store.withheld_count(order["id"])
        reply = results_reply(self.t.s, order, variations, withheld)
        if await self.t.send(order["platform"], order["chat_id"], reply):
            await self.t.store.set_order(
                order["id"], status=OrderStatus.DELIVERED, delivered_at=now_iso()
            )
            self.t.edits.pending.pop(order["id"], None)  # a queued edit would come too late
            self.t.bars.forget(order["id"])
            self.t.shown.pop(order["id"], None)
            done = Reply(text=w.order_ready(order["id"]), edit_key=f"order-{order['id']}")
            await self.t.send(order["platform"], order["chat_id"], done)
            await joint.deliver_partner(self.t.s, self.t.send, order)  # two people: both
