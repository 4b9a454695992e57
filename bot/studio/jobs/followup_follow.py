"""Following follow-ups (upscale, label, avatar): the ``followup`` kind of job
(bot/studio/jobs/kinds.py). What each follow-up asks and keeps is the follow-ups' own
table (bot/studio/portrait/followups.py: a new follow-up is a row there, not a new
kind here); here: the job's state, its result kept (or its failure's code), the
message, delivered once."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, cast

from bot.store import codes
from bot.store.codes import FollowUpStatus as Status
from bot.store.store import Row, now_iso
from bot.studio.core.events import Reply
from bot.studio.jobs import words_failures as wf
from bot.studio.jobs.parts import MAX_ENQUEUES, RESULT_WAIT_S, Follower
from bot.studio.portrait.followups import BY_KIND, final_words, is_final
from sitter import contract as c
from sitter.engine_client import JobStatus
from sitter.events import JobEvent, What

log = logging.getLogger("bot.studio.jobs.tracking")


class FollowUpFollower(Follower[Row]):
    """Rows of variation_jobs (with their portrait's idx, order and chat joined)."""

    async def unfinished(self) -> Sequence[Row]:
        return await self.t.store.variation_jobs_to_follow()

    async def one(self, ident: int) -> Row | None:
        return await self.t.store.variation_job_to_follow(ident)

    async def jobs(self, items: Sequence[Row]) -> list[tuple[str, str]]:
        return [(BY_KIND[v["kind"]].job, v["job_id"]) for v in items if v["job_id"]]

    async def on_event(self, ev: JobEvent, ident: int) -> Row | None:
        vj = await self.one(ident)
        if vj is None:
            return None
        if ev.what == What.STARTED:
            self.t.started(BY_KIND[vj["kind"]].job)
        return vj if ev.what == What.DONE else None

    async def follow(self, vj: Row, fresh: bool = False) -> None:  # always read again
        f = BY_KIND[vj["kind"]]
        if vj["status"] == Status.QUEUED:
            if not vj["job_id"]:
                await self._enqueue_follow_up(vj["id"], vj["user_id"], lost_job=None)
                return
            js = await self.t.state(f.job, vj["job_id"])
            if js.status == JobStatus.RUNNING:
                await self.t.engine.reclaim(vj["job_id"])
                return
            if js.status == JobStatus.QUEUED:
                return
            fresh_vj = await self.t.store.variation_job_by_id(vj["id"])
            if fresh_vj is None:
                return
            # The row as it is now, with the joined columns (platform, chat_id, idx).
            merged: dict[str, Any] = {**dict(vj), **dict(fresh_vj)}
            if merged["status"] != Status.QUEUED:
                pass
            elif js.status == JobStatus.MISSING:
                await self._lost_follow_up(merged)
                return
            else:
                await self._collect_follow_up(merged)
        now = await self.t.store.variation_job_by_id(vj["id"])
        if now is None or now["delivered_at"]:
            return
        if now["status"] == Status.DONE:
            reply = self.t.followups.reply(now, vj["idx"])
            if await self.t.send(vj["platform"], vj["chat_id"], reply):
                await self.t.store.set_variation_job(
                    vj["id"], status=Status.DELIVERED, delivered_at=now_iso()
                )
        elif now["status"] == Status.FAILED:
            if is_final(now):  # the same copy again would be withheld (refused) too
                reply = Reply(text=final_words(now, vj["idx"]))
            else:
                reply = self.t.followups.failed_reply(
                    vj, vj["idx"], wf.stored_failure(now["error"])
                )
            if await self.t.send(vj["platform"], vj["chat_id"], reply):
                await self.t.store.set_variation_job(vj["id"], delivered_at=now_iso())

    async def _collect_follow_up(self, vj: dict[str, Any]) -> None:
        f = BY_KIND[vj["kind"]]
        handle = self.t.engine.job(f.job, vj["job_id"])
        result = await self.t.engine.result(f.job, handle, timeout=RESULT_WAIT_S)
        if isinstance(result, c.JobFailure):
            if result.code == c.FailureCode.LOST:
                await self._lost_follow_up(vj)
                return
            log.warning("%s %s failed (%s): %s", f.job, vj["id"], result.code, result.message)
            error = wf.engine_failure(result.code)  # its code; never its own sentence
            if result.code == c.FailureCode.WITHHELD:  # the copy did not pass the safety check
                error = codes.stored(codes.Failure.COPY_WITHHELD)
                order = {"id": vj["order_id"], "user_id": vj["user_id"]}
                await self.t.audit_withheld(order, "copy_withheld", {"kind": vj["kind"]})
            await self.t.store.set_variation_job(vj["id"], status=Status.FAILED, error=error)
            await self.t.engine.drop([vj["job_id"]])  # its request holds the portrait
        else:
            await self.t.followups.keep(
                cast(Row, vj), result
            )  # read as a row: by column  # its files, or why it was refused
            await self.t.engine.drop([vj["job_id"]])

    async def _lost_follow_up(self, vj: Row | dict[str, Any]) -> None:
        if vj["enqueues"] < MAX_ENQUEUES:
            await self._enqueue_follow_up(vj["id"], vj["user_id"], lost_job=vj["job_id"])
        else:
            await self.t.store.set_variation_job(
                vj["id"], status=Status.FAILED, error=wf.LOST_SEVERAL_TIMES
            )

    async def _enqueue_follow_up(self, vj_id: int, user_id: int, *, lost_job: str | None) -> None:
        async with self.t.person(user_id):
            vj = await self.t.store.variation_job_by_id(vj_id)
            if vj is None or vj["status"] != Status.QUEUED or vj["job_id"] != lost_job:
                return
            if lost_job and not await self.t.still_lost(BY_KIND[vj["kind"]].job, lost_job):
                return
            await self.t.followups.enqueue(vj_id)
