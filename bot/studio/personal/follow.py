"""Following a personal model's training for the tracker (kind ``personal``): its live
progress in the chat (one message, edited: %, time left, Stop), the file stored FIRST
when the job is done (under the person's media folder), then "ready" with the switch,
then the row marked told; a failure's code worded when sent; a lost job queued again up
to ``MAX_ENQUEUES`` times. A row that went meanwhile (/forget, a new set, a moderator)
takes its file with it: a result that lands after that is deleted, never kept."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence

from bot.store.codes import Failure
from bot.store.personal_store import IN_FLIGHT, KIND
from bot.store.store import Row, now_iso
from bot.studio.core.events import Reply
from bot.studio.jobs import words_failures as wf
from bot.studio.jobs.parts import MAX_ENQUEUES, RESULT_WAIT_S, Follower, Parts
from bot.studio.jobs.progress import EditPacer
from bot.studio.personal import gone
from bot.studio.personal import words_personal as wpm
from bot.studio.personal.personal import Personal, cancel_row, edit_key, ready_reply
from sitter import contract as c
from sitter.events import JobEvent, What

log = logging.getLogger("bot.studio.jobs.tracking")


class TrainFollower(Follower[Row]):
    def __init__(self, t: Parts) -> None:
        super().__init__(t)
        self.personal = Personal(t.s, t.orders)
        self.pacer = EditPacer(t.s.settings.progress_edit_s)
        self.shown: dict[int, str] = {}  # model id -> the text its message shows
        self.seen: dict[int, tuple[float, int]] = {}  # model id -> (first look, step then)

    # --- the table's questions ------------------------------------------------------------
    async def unfinished(self) -> Sequence[Row]:
        return await self.t.store.personal_to_follow()

    async def one(self, ident: int) -> Row | None:
        return await self.t.store.personal(ident)

    async def jobs(self, items: Sequence[Row]) -> list[tuple[str, str]]:
        return [
            (c.JOB_TRAIN, r["job_id"]) for r in items if r["job_id"] and r["status"] in IN_FLIGHT
        ]

    async def on_event(self, ev: JobEvent, ident: int) -> Row | None:
        """Started, progress and done: each moves the chat's message on at once."""
        return (
            await self.one(ident) if ev.what in (What.STARTED, What.PROGRESS, What.DONE) else None
        )

    # --- following --------------------------------------------------------------------------
    async def follow(self, item: Row, fresh: bool) -> None:
        store = self.t.store
        row = item if fresh else await store.personal(item["id"])
        if row is None:
            return
        if row["status"] in IN_FLIGHT:
            if not await self._in_flight(row):
                return
            row = await store.personal(row["id"])
            if row is None:
                return
        if row["delivered_at"] is None and row["status"] in ("ready", "failed"):
            reply = self._final(row)
            if await self.t.send(row["platform"], row["chat_id"], reply):
                await store.set_personal(row["id"], delivered_at=now_iso())
                self.shown.pop(row["id"], None)
                self.seen.pop(row["id"], None)

    async def _in_flight(self, row: Row) -> bool:
        """Move a queued or running training on; True when it just ended (told next)."""
        engine, job_id = self.t.engine, row["job_id"]
        if not job_id:
            await self._enqueue_again(row, None)
            return False
        js = await self.t.state(c.JOB_TRAIN, job_id)
        if js.status == "queued":
            await self._show(row, wpm.queued(js.position))
            return False
        if js.status == "running":
            if await engine.orphaned(job_id):
                await engine.reclaim(job_id)  # its checkpoint lets the next worker resume
                return False
            p = await engine.progress(job_id)
            if row["status"] == "queued":
                await self.t.store.set_personal(row["id"], status="running")
            if p is not None and p.stage == "train" and p.steps:
                await self.t.store.set_personal(row["id"], steps_done=p.step)
                await self._show(row, wpm.running(*self._figures(row["id"], p)))
            return False
        if js.status == "missing":
            await self._lost(row)
            return False
        await self._collect(row)
        return True

    def _figures(self, model_id: int, p: c.Progress) -> tuple[int, float | None]:
        """(percent, minutes left): the engine's estimate, else from the pace seen here."""
        pct = max(0, min(99, int(100 * p.step / p.steps)))
        if p.seconds_left is not None:
            return pct, p.seconds_left / 60
        now = time.monotonic()
        first = self.seen.setdefault(model_id, (now, p.step))
        done, took = p.step - first[1], now - first[0]
        if done <= 0 or took <= 0:
            return pct, None
        return pct, (p.steps - p.step) * took / done / 60

    async def _show(self, row: Row, text: str) -> None:
        """The training's progress message, edited at a pace (never the same text twice)."""
        mid = row["id"]
        if self.shown.get(mid) == text or not self.pacer.due(mid):
            return
        reply = Reply(text=text, buttons=(cancel_row(mid),), edit_key=edit_key(mid))
        if await self.t.outboxes.send(row["platform"], row["chat_id"], reply, edit=True):
            self.shown[mid] = text
            self.pacer.edited(mid)

    async def _collect(self, row: Row) -> None:
        """The finished job's answer: the file stored first (or the failure's code)."""
        store, engine, job_id = self.t.store, self.t.engine, str(row["job_id"])
        result = await engine.result(c.JOB_TRAIN, engine.job(c.JOB_TRAIN, job_id), RESULT_WAIT_S)
        if isinstance(result, c.JobFailure):
            if result.code == c.FailureCode.LOST:
                await self._lost(row)
                return
            log.warning("personal model %s failed (%s)", row["id"], result.code)
            await store.finish_personal(row["id"], "failed", error=wf.engine_failure(result.code))
        elif isinstance(result, c.TrainResult):
            await self._keep(row, result)
        await gone.drop_trainings(engine, [job_id])  # its answer holds the file: not kept

    async def _keep(self, row: Row, r: c.TrainResult) -> None:
        store = self.t.store
        if hashlib.sha256(r.lora).hexdigest() != r.sha256:
            await store.finish_personal(row["id"], "failed", error=Failure.BAD_RESULT.value)
            return
        async with self.t.person(row["user_id"]):  # never beside the person's /forget
            now = await store.personal(row["id"])
            if now is None or now["status"] not in IN_FLIGHT:
                return  # stopped or deleted meanwhile: the file is never written
            rel, sha = store.media.put(row["user_id"], KIND, r.lora, "safetensors")
            done = await store.finish_personal(
                row["id"],
                "ready",
                path=rel,
                sha256=sha,
                steps_done=r.steps,
                family=r.family,
                base_model=r.base_model,
                licence=r.licence,
                commercial_ok=int(r.commercial_ok),
            )
            if not done or await store.personal(row["id"]) is None:
                store.media.delete(rel)  # the row went as the file was written
                return
        log.info(
            "personal model %s ready (%d steps, resumed from %d, %.0f s)",
            row["id"],
            r.steps,
            r.resumed_from,
            r.seconds,
        )

    async def _lost(self, row: Row) -> None:
        if row["enqueues"] < MAX_ENQUEUES:
            await self._enqueue_again(row, row["job_id"])
        else:
            await self.t.store.finish_personal(
                row["id"], "failed", error=Failure.LOST_SEVERAL_TIMES.value
            )

    async def _enqueue_again(self, row: Row, lost_job: str | None) -> None:
        async with self.t.person(row["user_id"]):
            now = await self.t.store.personal(row["id"])
            if now is None or now["status"] not in IN_FLIGHT or now["job_id"] != lost_job:
                return
            if lost_job and not await self.t.still_lost(c.JOB_TRAIN, lost_job):
                return
            if lost_job:
                await gone.drop_trainings(self.t.engine, [lost_job])  # its checkpoint too
            reply = await self.personal.enqueue(row["id"])
            await self.t.send(row["platform"], row["chat_id"], reply)

    def _final(self, row: Row) -> Reply:
        if row["status"] == "ready":
            return ready_reply(row)
        error = str(row["error"] or "unknown")
        return Reply(text=wpm.failed(error, wf.stored_failure(error)))
