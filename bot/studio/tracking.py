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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.studio import buttons as b
from bot.studio import words
from bot.studio.events import Button, ChatRefused, Image, Recipient, Reply
from bot.studio.words import detail_columns, detail_words, likeness_words
from sitter import contract as c

if TYPE_CHECKING:
    from bot.studio.core import Studio

log = logging.getLogger(__name__)

MAX_ENQUEUES = 3
SWEEP_EVERY_S = 3600.0
RESULT_WAIT_S = 10.0
# A chat that refuses our messages for good (the outbox raises ChatRefused: the person
# blocked the bot, left, deleted the chat) is tried again after 2, 4, 8 ... ticks and
# given up after MAX_SEND_FAILS refusals until the person writes again; the results stay
# in the store (/status, a later /start). Any other failure (network, 5xx, rate limits)
# passes: tried again after 2, 4, 8 ... ticks up to SEND_RETRY_CAP_S apart, never given up.
MAX_SEND_FAILS = 6
SEND_BACKOFF_CAP_S = 3600.0
SEND_RETRY_CAP_S = 300.0


def variation_columns(v: c.Variation) -> tuple[Any, ...]:
    """A delivered variation's judged values, in ``Store.add_variation``'s order after the
    file: likeness, face, pass, attempts, verdict, bar, why it was redone, detail pass."""
    return (
        v.likeness,
        v.face_found,
        v.passed,
        v.attempts,
        v.verdict.value if v.verdict else None,
        v.threshold,
        ",".join(r.value for r in v.regenerated_for),
        *detail_columns(v.detail),
    )


class Tracker:
    def __init__(self, studio: Studio):
        self.studio = studio
        self.store = studio.store
        self.engine = studio.engine
        self._last_sweep: float | None = None  # sweep on the first pass (monotonic may be < 1 h)
        self.outages = studio.outages
        from functools import partial

        from sitter.outage import probe_disk

        self.disk_probe: Callable[[], None] = partial(probe_disk, self.store.media.root)

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self.outages.failed(exc, "tracking"):
                    log.exception("tracking: tick failed; trying again")
            await asyncio.sleep(self.studio.tick_s)

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
        moderation_tick = getattr(self.studio.moderation, "tick", None)
        if moderation_tick is not None:
            # reports that could not reach the moderators yet
            await self._isolated(moderation_tick(), "moderation", 0)
        if self._last_sweep is None or time.monotonic() - self._last_sweep > SWEEP_EVERY_S:
            self._last_sweep = time.monotonic()
            swept = await self._sweep()
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
        failures = self.studio.send_failures
        key = (platform, chat_id)
        refused, failed, next_at = failures.get(key, (0, 0, 0.0))
        if refused >= MAX_SEND_FAILS or time.monotonic() < next_at:
            return False  # backing off, or given up until the person writes again
        try:
            await outbox.send(Recipient(platform, chat_id), reply)
        except ChatRefused as exc:
            refused += 1
            wait = min(SEND_BACKOFF_CAP_S, self.studio.tick_s * 2**refused)
            failures[key] = (refused, failed, time.monotonic() + wait)
            if refused >= MAX_SEND_FAILS:
                log.warning(
                    "tracking: giving up on %s:%s after %d refusals (%s); its results "
                    "are kept and sent when the person writes again",
                    platform,
                    chat_id,
                    refused,
                    exc,
                )
            else:
                log.warning(
                    "tracking: %s:%s refused a message (%s); next try in %.0fs",
                    platform,
                    chat_id,
                    exc,
                    wait,
                )
            return False
        except Exception as exc:
            failed += 1
            wait = min(SEND_RETRY_CAP_S, self.studio.tick_s * 2 ** min(failed, 30))
            failures[key] = (refused, failed, time.monotonic() + wait)
            log.log(
                logging.WARNING if failed == 1 else logging.INFO,  # one warning per outage
                "tracking: sending to %s:%s failed (%s: %s); trying again in %.0fs (try %d)",
                platform,
                chat_id,
                type(exc).__name__,
                exc,
                wait,
                failed,
            )
            return False
        failures.pop(key, None)
        return True

    # --- orders -------------------------------------------------------------------------
    async def follow_order(self, order: Any) -> None:
        oid = order["id"]
        # The list was read at the start of the pass: a /cancel (or a ban, a forget)
        # may have changed the order since. Act on what the row says now.
        order = await self.store.order(oid)
        if order is None:
            return
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
                if js.status == "running" and await self.engine.reclaim(order["job_id"]):
                    js = await self.engine.state(c.JOB_GENERATE, order["job_id"])
                if js.status == "running" and order["status"] == "queued":
                    await self.store.set_order(oid, status="running")
                note = await self.studio.no_worker_note() if js.status == "queued" else ""
                text = self.studio.progress_text(oid, js.status, js.position, note)
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
        fresh = await self.store.order(order["id"])
        if fresh is None or fresh["status"] not in ("queued", "running"):
            return  # cancelled (its job removed) while this pass ran: nothing to re-queue
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
        """Store the finished job's portraits, unless the order was cancelled (or its
        owner banned or forgotten) while its result was read: every write below is
        conditional on the order still being queued or running."""
        handle = self.engine.job(c.JOB_GENERATE, order["job_id"])
        result = await self.engine.result(c.JOB_GENERATE, handle, timeout=RESULT_WAIT_S)
        oid = order["id"]
        if isinstance(result, c.JobFailure):
            if result.code == "lost":
                await self._lost_order(order)
                return
            log.warning("order %s failed (%s): %s", oid, result.code, result.message[:500])
            error = words.failure_words(result.code)  # never the engine's own sentence
            await self.store.finish_order(oid, status="failed", error=error, finished_at=_now())
            await self.engine.drop([order["job_id"]])
            return
        assert isinstance(result, c.GenerateResult)
        # Never "your 0 portraits", counted against the quota; all withheld by the safety
        # check is an answer though (told neutrally, with Retry).
        if not result.variations and not result.withheld:
            await self.store.finish_order(
                oid, status="failed", error="the engine made no portraits", finished_at=_now()
            )
            await self.engine.drop([order["job_id"]])
            return
        finished = False
        async with self.store.tx():
            if await self.store.finish_order(oid, status="done", finished_at=_now()):
                finished = True
                for idx, v in enumerate(result.variations, 1):
                    rel, sha = self.store.media.put(order["user_id"], "results", v.image, "png")
                    await self.store.add_variation(
                        oid,
                        order["user_id"],
                        idx,
                        v.seed,
                        rel,
                        sha,
                        *variation_columns(v),
                    )
                for w in result.withheld:
                    await self._audit_withheld(order, "output_withheld", w.model_dump())
        if not finished:
            log.info("order %s: finished after it was cancelled; its portraits are dropped", oid)
        await self.engine.drop([order["job_id"]])  # the portraits now live in the store only

    async def _audit_withheld(self, order: Any, action: str, detail: dict[str, Any]) -> None:
        """The audit log's entry for what the safety check withheld: never the image."""
        from bot.store.moderation_store import ModerationStore

        await ModerationStore(self.store).log(
            "system",
            action,
            target_user_id=order["user_id"],
            reason="output safety check",
            detail={"order_id": order["id"], **detail},
        )

    async def _withheld_count(self, order_id: int) -> int:
        row = await self.store.one(
            "SELECT COUNT(*) AS n FROM moderation_actions WHERE action = 'output_withheld' "
            "AND json_extract(detail, '$.order_id') = ?",
            order_id,
        )
        return int(row["n"]) if row is not None else 0

    async def _deliver_results(self, order: Any) -> None:
        variations = await self.store.variations(order["id"])
        reply = self.results_reply(order, variations, await self._withheld_count(order["id"]))
        if await self.send(order["platform"], order["chat_id"], reply):
            await self.store.set_order(order["id"], status="delivered", delivered_at=_now())
            done = Reply(text=f"Order #{order['id']} is ready ↓", edit_key=f"order-{order['id']}")
            await self.send(order["platform"], order["chat_id"], done)

    def results_reply(self, order: Any, variations: list[Any], withheld: int = 0) -> Reply:
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
        if withheld and not images:
            text = f"Order #{order['id']} – {name}: {words.withheld_line(withheld)} {words.RETRY}"
            rows = rows[:1]
        elif withheld:
            text += " " + words.withheld_line(withheld)
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
        fresh_vj = await self.store.one("SELECT * FROM variation_jobs WHERE id = ?", vj["id"])
        if fresh_vj is None:
            return
        vj = {**dict(vj), **dict(fresh_vj)}  # keep the joined columns (platform, chat_id, idx)
        if vj["status"] == "queued":
            if not vj["job_id"]:
                await self.studio.enqueue_follow_up(vj["id"])
                return
            js = await self.engine.state(job, vj["job_id"])
            if js.status == "running":
                await self.engine.reclaim(vj["job_id"])
                return
            if js.status == "queued":
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
                log.warning("%s %s failed (%s): %s", job, vj["id"], result.code, result.message)
                error = words.failure_words(result.code)  # never the engine's own sentence
                if result.code == "withheld":  # the copy did not pass the safety check
                    error = words.copy_withheld(vj["idx"])
                    order = {"id": vj["order_id"], "user_id": vj["user_id"]}
                    await self._audit_withheld(order, "copy_withheld", {"kind": vj["kind"]})
                await self.store.set_variation_job(vj["id"], status="failed", error=error)
                await self.engine.drop([vj["job_id"]])  # its request holds the portrait
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
        elif fresh["status"] == "failed" and fresh["error"] == words.copy_withheld(vj["idx"]):
            reply = Reply(text=fresh["error"])  # the same copy again would be withheld too
            if await self.send(vj["platform"], vj["chat_id"], reply):
                await self.store.set_variation_job(vj["id"], delivered_at=_now())
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
