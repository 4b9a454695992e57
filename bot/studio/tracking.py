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
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from bot.studio import buttons as b
from bot.studio.events import Button, Image, Recipient, Reply
from bot.studio.words import detail_columns, detail_words, likeness_words
from sitter import contract as c

if TYPE_CHECKING:
    from bot.studio.core import Studio

log = logging.getLogger(__name__)

MAX_ENQUEUES = 3
SWEEP_EVERY_S = 3600.0
RESULT_WAIT_S = 10.0


class Tracker:
    def __init__(self, studio: Studio):
        self.studio = studio
        self.store = studio.store
        self.engine = studio.engine
        self._last_sweep: float | None = None  # sweep on the first pass (monotonic may be < 1 h)

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("tracking: tick failed; trying again")
            await asyncio.sleep(self.studio.tick_s)

    async def tick(self) -> None:
        """One pass over everything unfinished (tests call this directly)."""
        # Each item on its own: one row that keeps failing must not hold up the other
        # orders, the moderators' queue or the retention sweep.
        for order in await self.store.orders_to_follow():
            await self._isolated(self.follow_order(order), "order", order["id"])
        for vj in await self.store.variation_jobs_to_follow():
            await self._isolated(self.follow_variation_job(vj), "follow-up job", vj["id"])
        moderation_tick = getattr(self.studio.moderation, "tick", None)
        if moderation_tick is not None:
            # reports that could not reach the moderators yet
            await self._isolated(moderation_tick(), "moderation", 0)
        if self._last_sweep is None or time.monotonic() - self._last_sweep > SWEEP_EVERY_S:
            self._last_sweep = time.monotonic()
            swept = await self._sweep()
            if any(swept.values()):
                log.info("retention sweep: %s", swept)

    @staticmethod
    async def _isolated(step: Any, what: str, ident: int) -> None:
        try:
            await step
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("tracking: %s %s failed; trying again next pass", what, ident)

    async def _sweep(self) -> dict[str, int]:
        s = self.studio.settings
        try:
            from bot.studio import rights
        except ImportError:
            return await self.store.sweep_retention(
                s.reference_retention_days, s.result_retention_days
            )
        return await rights.sweep(self.store, s)  # + audit log

    # --- sending ------------------------------------------------------------------------
    async def send(self, platform: str, chat_id: str | None, reply: Reply) -> bool:
        outbox = self.studio.outboxes.get(platform)
        if outbox is None or not chat_id:
            return False  # delivered later, once that platform's adapter is running
        try:
            await outbox.send(Recipient(platform, chat_id), reply)
        except Exception as exc:
            log.warning("tracking: sending to %s:%s failed: %s", platform, chat_id, exc)
            return False
        return True

    # --- orders -------------------------------------------------------------------------
    async def follow_order(self, order: Any) -> None:
        oid = order["id"]
        if order["status"] in ("queued", "running"):
            if not order["job_id"]:
                reply = await self.studio.enqueue_order(oid)
                await self.send(order["platform"], order["chat_id"], reply)
                return
            js = await self.engine.state(c.JOB_GENERATE, order["job_id"])
            if js.status == "done":
                await self._collect_order(order)
            elif js.status == "missing":
                await self._lost_order(order)
                return
            else:
                if js.status == "running" and order["status"] == "queued":
                    await self.store.set_order(oid, status="running")
                text = self.studio.progress_text(oid, js.status, js.position)
                if text != order["progress"]:
                    reply = self.studio.progress_reply(oid, text, js.status == "queued")
                    if await self.send(order["platform"], order["chat_id"], reply):
                        await self.store.set_order(oid, progress=text)
                return
        order = await self.store.order(oid)
        if order is None or order["delivered_at"]:
            return
        if order["status"] == "done":
            await self._deliver_results(order)
        elif order["status"] == "failed":
            await self._deliver_failure(order)

    async def _lost_order(self, order: Any) -> None:
        if order["enqueues"] < MAX_ENQUEUES:
            log.warning(
                "order %s: job %s is gone from Redis; enqueueing again",
                order["id"],
                order["job_id"],
            )
            reply = await self.studio.enqueue_order(order["id"])
            await self.send(order["platform"], order["chat_id"], reply)
            return
        await self.store.set_order(
            order["id"],
            status="failed",
            finished_at=_now(),
            error="the engine lost the job several times",
        )

    async def _collect_order(self, order: Any) -> None:
        handle = self.engine.job(c.JOB_GENERATE, order["job_id"])
        result = await self.engine.result(c.JOB_GENERATE, handle, timeout=RESULT_WAIT_S)
        if isinstance(result, c.JobFailure):
            if result.code == "lost":
                await self._lost_order(order)
                return
            await self.store.set_order(
                order["id"], status="failed", error=result.message[:500], finished_at=_now()
            )
            return
        assert isinstance(result, c.GenerateResult)
        async with self.store.tx():
            for idx, v in enumerate(result.variations, 1):
                rel, sha = self.store.media.put(order["user_id"], "results", v.image, "png")
                await self.store.add_variation(
                    order["id"],
                    order["user_id"],
                    idx,
                    v.seed,
                    rel,
                    sha,
                    v.likeness,
                    v.face_found,
                    v.passed,
                    v.attempts,
                    v.verdict.value if v.verdict else None,
                    v.threshold,
                    ",".join(r.value for r in v.regenerated_for),
                    *detail_columns(v.detail),
                )
            await self.store.set_order(order["id"], status="done", finished_at=_now())
        await self.engine.drop([order["job_id"]])  # the portraits now live in the store only

    async def _deliver_results(self, order: Any) -> None:
        variations = await self.store.variations(order["id"])
        reply = self.results_reply(order, variations)
        if await self.send(order["platform"], order["chat_id"], reply):
            await self.store.set_order(order["id"], status="delivered", delivered_at=_now())
            done = Reply(text=f"Order #{order['id']} is ready ↓", edit_key=f"order-{order['id']}")
            await self.send(order["platform"], order["chat_id"], done)

    def results_reply(self, order: Any, variations: list[Any]) -> Reply:
        style = self.studio.prompts.styles.get(order["style"])
        images = []
        for v in variations:
            if v["removed_at"] or not v["path"]:
                continue
            likeness = likeness_words(v)  # score and reason in plain words
            cap = f"#{v['idx']}" + (f" · {likeness}" if likeness else "") + detail_words(v)
            images.append(Image(self.store.media.path(v["path"]), caption=cap))
        ups = tuple(Button(f"Upscale {v['idx']}", b.item("u", v["id"])) for v in variations)
        labels = tuple(Button(f"Label {v['idx']}", b.item("l", v["id"])) for v in variations)
        rows: list[tuple[Button, ...]] = [
            (Button("↻ Retry (new seeds)", b.item("r", order["id"]), "primary"),),
            ups,
            labels,
        ]
        if self.studio.moderation is not None:
            rows.append(tuple(Button(f"Report {v['idx']}", b.report(v["id"])) for v in variations))
        name = style.name if style else order["style"]
        text = (
            f"Order #{order['id']} – {name}: your {len(images)} portraits. Upscale or label one "
            "with the buttons (they come back as files with AI provenance), or retry with new "
            "seeds. /new for a different portrait."
        )
        return Reply(text=text, images=tuple(images), buttons=tuple(rows))

    async def _deliver_failure(self, order: Any) -> None:
        reply = Reply(
            text=(
                f"Sorry, order #{order['id']} failed: {order['error'] or 'unknown error'}. "
                "Your photos and choices are kept; you can try again."
            ),
            buttons=((Button("↻ Try again", b.item("r", order["id"]), "primary"),),),
        )
        if await self.send(order["platform"], order["chat_id"], reply):
            await self.store.set_order(order["id"], delivered_at=_now())

    # --- upscale / label ----------------------------------------------------------------
    async def follow_variation_job(self, vj: Any) -> None:
        job = c.JOB_UPSCALE if vj["kind"] == "upscale" else c.JOB_LABEL
        if vj["status"] == "queued":
            if not vj["job_id"]:
                await self.studio.enqueue_follow_up(vj["id"])
                return
            js = await self.engine.state(job, vj["job_id"])
            if js.status in ("queued", "running"):
                return
            if js.status == "missing":
                await self._lost_follow_up(vj)
                return
            handle = self.engine.job(job, vj["job_id"])
            result = await self.engine.result(job, handle, timeout=RESULT_WAIT_S)
            if isinstance(result, c.JobFailure):
                if result.code == "lost":
                    await self._lost_follow_up(vj)
                    return
                await self.store.set_variation_job(
                    vj["id"], status="failed", error=result.message[:500]
                )
            else:
                assert isinstance(result, c.UpscaleResult | c.LabelResult)
                kind = "upscaled" if vj["kind"] == "upscale" else "labelled"
                rel, _ = self.store.media.put(vj["user_id"], kind, result.image, "png")
                method = getattr(result, "method", "") or ""
                if isinstance(result, c.UpscaleResult):
                    method = f"{method}, {result.width}×{result.height}".strip(", ")
                await self.store.set_variation_job(vj["id"], status="done", path=rel, method=method)
                await self.engine.drop([vj["job_id"]])
        fresh = await self.store.one("SELECT * FROM variation_jobs WHERE id = ?", vj["id"])
        if fresh is None or fresh["delivered_at"]:
            return
        if fresh["status"] == "done":
            reply = self.studio.follow_up_reply(fresh, vj["idx"])
            if await self.send(vj["platform"], vj["chat_id"], reply):
                await self.store.set_variation_job(
                    vj["id"], status="delivered", delivered_at=_now()
                )
        elif fresh["status"] == "failed":
            verb = "Upscaling" if vj["kind"] == "upscale" else "Labelling"
            kind = "u" if vj["kind"] == "upscale" else "l"
            reply = Reply(
                text=f"Sorry, {verb.lower()} #{vj['idx']} failed: {fresh['error']}.",
                buttons=((Button("↻ Try again", b.item(kind, vj["variation_id"])),),),
            )
            if await self.send(vj["platform"], vj["chat_id"], reply):
                await self.store.set_variation_job(vj["id"], delivered_at=_now())

    async def _lost_follow_up(self, vj: Any) -> None:
        if vj["enqueues"] < MAX_ENQUEUES:
            await self.studio.enqueue_follow_up(vj["id"])
        else:
            await self.store.set_variation_job(
                vj["id"], status="failed", error="the engine lost the job several times"
            )


def _now() -> str:
    from bot.store.store import now_iso

    return now_iso()
