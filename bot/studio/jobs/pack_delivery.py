"""Following a pack order to its end: the ``pack`` kind of job (bot/studio/jobs/kinds.py).

Each look is followed on its own: its job's portraits are stored as the order's
variations, numbered across the pack (the look's ``first`` number on), and the look is
sent as one album at once, then marked delivered. When every look is painted, the
numbered contact sheet of the whole pack goes out (with Retry: per pack), then the order
is delivered. As with one-style orders, files and rows are stored first, then sent,
then marked: a restart sends only what was not marked (a crash between the send and
the mark repeats that one message, never loses it).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence

from bot.store.codes import IN_FLIGHT, LookStatus, OrderStatus, Shown
from bot.store.media import PACK_SHEETS
from bot.store.rows import Portrait
from bot.store.store import Row, now_iso
from bot.studio.core import buttons as b
from bot.studio.core import words
from bot.studio.core import words_chat as w
from bot.studio.core.events import Button, Image, Reply
from bot.studio.core.words import detail_words, likeness_words
from bot.studio.jobs import words_failures as wf
from bot.studio.jobs.parts import MAX_ENQUEUES, RESULT_WAIT_S, Follower, Parts
from bot.studio.jobs.results import failure_reply, variation_columns
from bot.studio.jobs.words_progress import progress_words
from bot.studio.orders import buttons as ob
from bot.studio.orders import words_packs as wp
from bot.studio.personal import words_personal as wpm
from bot.studio.photos.contact_sheet import contact_sheet
from bot.studio.portrait import buttons as pb
from bot.studio.portrait import followups
from bot.studio.portrait import words_portrait as wpt
from sitter import contract as c
from sitter.engine_client import JobStatus
from sitter.events import JobEvent, What

log = logging.getLogger("bot.studio.jobs.tracking")


class PackFollower(Follower[Row]):
    """Pack orders, each with one job per look (its rows: order_looks); the pass reads
    the jobs of every look in flight, and of looks a cancel stopped while painted."""

    def __init__(self, t: Parts) -> None:
        super().__init__(t)
        self._stopped: list[tuple[int, str]] = []

    async def unfinished(self) -> Sequence[Row]:
        return await self.t.store.orders_to_follow(packs=True)

    async def one(self, ident: int) -> Row | None:
        return await self.t.store.order(ident)

    async def jobs(self, items: Sequence[Row]) -> list[tuple[str, str]]:
        store = self.t.store
        self._stopped = await store.stopped_look_jobs()
        looks = [(c.JOB_GENERATE, job_id) for job_id in await store.look_jobs_in_flight()]
        return looks + [(c.JOB_GENERATE, job_id) for _, job_id in self._stopped]

    async def tidy(self) -> None:
        """A look stopped by a cancel while painted: once its worker let go, whatever it
        left (a result written as the cancel came) is deleted and the job forgotten."""
        stopped, self._stopped = self._stopped, []
        for look_id, job_id in stopped:
            js = self.t.snap.states.pop(job_id, None)
            if js is None or js.status in (JobStatus.RUNNING, JobStatus.QUEUED):
                continue  # still winding down: the worker stops at its next step
            if js.status == JobStatus.DONE:
                await self.t.engine.drop([job_id])
            await self.t.store.forget_look_job(look_id)

    async def on_event(self, ev: JobEvent, ident: int) -> Row | None:
        if ev.what == What.STARTED:
            self.t.started(c.JOB_GENERATE)
        if ev.what == What.PROGRESS:
            return None  # a look's bar: the pack's progress counts looks, read by the pass
        return await self.t.store.order(ident)

    async def follow(self, order: Row, fresh: bool) -> None:
        if not fresh and (order := await self.t.store.order(order["id"])) is None:
            return
        await follow_pack(self.t, order)


async def follow_pack(t: Parts, order: Row) -> None:
    """One pass over a pack order (``order`` read fresh by the tracker)."""
    store, packs = t.store, t.orders.packs
    oid = order["id"]
    if order["status"] in IN_FLIGHT:
        for look in await store.looks(oid):
            if look["status"] in IN_FLIGHT:
                await _follow_look(t, order, look)
        order = await store.order(oid)
        if order is None or order["status"] not in IN_FLIGHT:
            return  # cancelled (or forgotten) while this pass ran
        looks = await store.looks(oid)
        for look in looks:
            if look["status"] in (LookStatus.DONE, LookStatus.FAILED) and not look["delivered_at"]:
                await _deliver_look(t, order, look, len(looks))
        looks = await store.looks(oid)
        if all(x["status"] not in IN_FLIGHT for x in looks):
            painted = await store.variations(oid)
            if painted or any(x["status"] == LookStatus.DONE for x in looks):
                if await store.finish_order(oid, status=OrderStatus.DONE, finished_at=now_iso()):
                    await store.uncount_failed_looks(oid)
            else:
                error = next((x["error"] for x in looks if x["error"]), None)
                await store.finish_order(
                    oid,
                    status=OrderStatus.FAILED,
                    error=error or wf.NO_PORTRAITS,
                    finished_at=now_iso(),
                )
        else:
            shown, cancellable = await packs.progress_shown(order, looks, note=await t.note())
            if shown != Shown.read(order["progress_code"], order["progress_params"]):
                name = packs.name(order)

                def make() -> tuple[Reply, Shown]:  # the words when it is sent
                    text = progress_words(oid, shown, name)
                    return t.orders.progress_reply(oid, text, cancellable), shown

                t.edits.put(oid, order["platform"], order["chat_id"], make)
            return
    order = await store.order(oid)
    if order is None or order["delivered_at"]:
        return
    if order["status"] == OrderStatus.DONE:
        looks = await store.looks(oid)
        for look in looks:  # a restart between two albums: the rest, once
            undelivered = (
                look["status"] in (LookStatus.DONE, LookStatus.FAILED) and not look["delivered_at"]
            )
            if undelivered and not await _deliver_look(t, order, look, len(looks)):
                return
        await _deliver_sheet(t, order)
    elif order["status"] == OrderStatus.FAILED and await t.send(
        order["platform"], order["chat_id"], failure_reply(order)
    ):
        await store.set_order(oid, delivered_at=now_iso())


async def _enqueue_look(t: Parts, order: Row, look: Row) -> None:
    """Under the person's lock, after reading the look again (as an order's enqueue)."""
    async with t.person(order["user_id"]):
        fresh = next((x for x in await t.store.looks(order["id"]) if x["id"] == look["id"]), None)
        if fresh is None or fresh["status"] not in IN_FLIGHT or fresh["job_id"] != look["job_id"]:
            return
        if not await t.still_lost(c.JOB_GENERATE, look["job_id"]):
            return  # enqueued by the placing while this pass looked
        current = await t.store.order(order["id"])
        if current is None or current["status"] not in IN_FLIGHT:
            return
        if look["job_id"]:
            log.warning("order %s look %s: job gone from Redis; again", order["id"], look["idx"])
        await t.orders.packs.enqueue_look(current, fresh)


async def _follow_look(t: Parts, order: Row, look: Row) -> None:
    store, engine = t.store, t.engine
    if not look["job_id"]:
        await _enqueue_look(t, order, look)
        return
    js = await t.state(c.JOB_GENERATE, look["job_id"])
    if js.status == JobStatus.RUNNING and await engine.reclaim(look["job_id"]):
        js = await engine.state(c.JOB_GENERATE, look["job_id"])
    if js.status == JobStatus.RUNNING:
        if look["status"] == LookStatus.QUEUED:
            await store.set_look(look["id"], status=LookStatus.RUNNING)
        if order["status"] == OrderStatus.QUEUED:
            await store.mark_running(order["id"])  # only while still queued (not cancelled)
        return
    if js.status == JobStatus.QUEUED:
        return
    result: c.GenerateResult | c.JobFailure | None = None
    if js.status == JobStatus.DONE:
        handle = engine.job(c.JOB_GENERATE, look["job_id"])
        result = await engine.result(c.JOB_GENERATE, handle, timeout=RESULT_WAIT_S)
    if result is None or (isinstance(result, c.JobFailure) and result.code == c.FailureCode.LOST):
        if look["enqueues"] < MAX_ENQUEUES:
            await _enqueue_look(t, order, look)
        else:
            await store.finish_look(
                look["id"], status=LookStatus.FAILED, error=wf.LOST_SEVERAL_TIMES
            )
        return
    if isinstance(result, c.JobFailure):
        log.warning("order %s look %s failed (%s)", order["id"], look["idx"], result.code)
        await store.finish_look(
            look["id"], status=LookStatus.FAILED, error=wf.engine_failure(result.code)
        )
        await engine.drop([look["job_id"]])
        return
    await _collect_look(t, order, look, result)
    await engine.drop([look["job_id"]])  # the portraits now live in the store only


async def _collect_look(t: Parts, order: Row, look: Row, result: c.GenerateResult) -> None:
    """Store the look's portraits, numbered from its ``first``, only while the order and
    the look are still in flight (a /cancel, a ban or a forget may have come first)."""
    store = t.store
    if not result.variations and not result.withheld:
        await store.finish_look(look["id"], status=LookStatus.FAILED, error=wf.NO_PORTRAITS)
        return
    async with store.tx():
        if not await store.finish_look(look["id"], status=LookStatus.DONE):
            log.info("order %s look %s: finished after a cancel; dropped", order["id"], look["idx"])
            return
        for i, v in enumerate(result.variations):
            rel, sha = store.media.put(order["user_id"], "results", v.image, "png")
            await store.add_variation(
                order["id"], order["user_id"], look["first"] + i, v.seed, rel, sha,
                *variation_columns(v),
            )  # fmt: skip
        for withheld in result.withheld:
            await t.audit_withheld(order, "output_withheld", withheld.model_dump())


def _look_variations(look: Row, variations: list[Portrait]) -> list[Portrait]:
    last = look["first"] + len(json.loads(look["seeds"])) - 1
    return [v for v in variations if look["first"] <= v.idx <= last]


async def _deliver_look(t: Parts, order: Row, look: Row, n: int) -> bool:
    """One album: the look's portraits with their pack-wide numbers and buttons."""
    s, store = t.s, t.store
    name = t.orders.packs.name(order)
    if look["status"] == LookStatus.FAILED:
        reply = Reply(
            text=wp.look_failed(order["id"], look["name"], wf.stored_failure(look["error"]))
        )
    else:
        variations = _look_variations(look, await store.variations(order["id"]))
        shown = [v for v in variations if v.kept]
        images = []
        for v in shown:
            likeness = likeness_words(v)
            cap = f"#{v.idx}" + (f" · {likeness}" if likeness else "") + detail_words(v)
            images.append(Image(store.media.path(v.path or ""), caption=cap))
        rows: list[tuple[Button, ...]] = list(followups.buttons(shown))
        if s.plugin is not None:
            rows.append(
                tuple(Button(w.REPORT_BUTTON.format(n=v.idx), b.report(v.id)) for v in shown)
            )
        # Avatar, vary and relight of a pack portrait (its look's prompt: portrait_menu.py)
        rows.append(tuple(Button(wpt.MORE_BUTTON.format(n=v.idx), pb.menu(v.id)) for v in shown))
        first = shown[0].idx if shown else look["first"]
        last = shown[-1].idx if shown else look["first"]
        text = wp.look_album(order["id"], name, look["name"], look["idx"], n, first, last)
        if dict(order).get("personal"):  # painted with the person's personal model (0017)
            text += "\n" + wpm.RESULTS_LINE
        if not shown:
            held = words.withheld_line(len(json.loads(look["seeds"])))
            text = f"Order #{order['id']} – {look['name']}: {held}"
            rows = []
        reply = Reply(text=text, images=tuple(images), buttons=tuple(r for r in rows if r))
    if not await t.send(order["platform"], order["chat_id"], reply):
        return False
    await store.set_look(look["id"], delivered_at=now_iso())
    return True


async def _deliver_sheet(t: Parts, order: Row) -> None:
    """The numbered contact sheet of the whole pack (numbers = the buttons' numbers),
    then the progress message says ready. The sheet is made for the message and kept
    only as long as a /photos sheet: the hourly sweep of sheets deletes it after an hour
    (so a terminal's copy is there to open), /forget and a purge at once; a restart
    before it is sent makes it again."""
    store = t.store
    name = t.orders.packs.name(order)
    shown = [v for v in await store.variations(order["id"]) if v.kept]
    looks = await store.looks(order["id"])
    retry = (Button(w.RETRY_BUTTON, ob.retry(order["id"]), "primary"),)
    if shown:
        pictures = [store.media.read(v.path) for v in shown]
        numbers = [v.idx for v in shown]
        sheet = await asyncio.to_thread(_sheet, pictures, numbers)
        rel, _ = store.media.put(order["user_id"], PACK_SHEETS, sheet, "jpg")
        names = ", ".join(
            f"{x['name']} {wp.numbers(x['first'], x['first'] + len(json.loads(x['seeds'])) - 1)}"
            for x in looks
            if x["status"] == LookStatus.DONE
        )
        text = wp.contact_sheet_text(order["id"], name, len(shown), names)
        reply = Reply(text=text, images=(Image(store.media.path(rel)),), buttons=(retry,))
    else:
        reply = Reply(text=f"Order #{order['id']} – {name}: {words.RETRY}", buttons=(retry,))
    withheld = await store.withheld_count(order["id"])
    if withheld:
        reply = Reply(
            text=reply.text + " " + words.withheld_line(withheld),
            images=reply.images,
            buttons=reply.buttons,
        )
    sent = await t.send(order["platform"], order["chat_id"], reply)
    if not sent:
        return
    await store.set_order(order["id"], status=OrderStatus.DELIVERED, delivered_at=now_iso())
    t.edits.pending.pop(order["id"], None)  # a queued edit would come too late
    done = Reply(text=wp.pack_ready(order["id"], name), edit_key=f"order-{order['id']}")
    await t.send(order["platform"], order["chat_id"], done)


def _sheet(pictures: list[bytes], numbers: list[int]) -> bytes:
    """The contact sheet, numbered as the portraits are (a failed look leaves a gap)."""
    if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
        return contact_sheet(pictures, first=numbers[0])
    return contact_sheet(pictures, numbers=numbers)
