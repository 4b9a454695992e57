"""A moderator's decision on a report, and telling both people what was decided.

Decisions escalate: *remove* deletes the order's portraits; *purge* also deletes
the owner's reference photos; *protect* and *ban* each do both and then protect
the face / ban the owner. A protected face is taken from the embeddings of the
owner's reference photos of the reported order (the photos the portrait was
made from, so the real person's face, not a generated likeness), read before
the purge; only when those are gone is the portrait itself analysed by the
engine. Only embeddings are kept, never a photo.
"""

from __future__ import annotations

import json
from typing import Any

import bot.studio.moderation.reach as reach
from bot.store.moderation_store import PROTECT_REQUEST, Purge
from bot.store.store import Row
from bot.studio.core.events import Reply, Who
from bot.studio.jobs import words_failures as wf
from bot.studio.moderation.bans import Bans
from bot.studio.moderation.cards import Cards
from bot.studio.moderation.desk import Desk
from bot.studio.moderation.protect_reach import protect_everywhere
from bot.studio.moderation.texts import (
    ACTIONS,
    ANALYZE_TIMEOUT_S,
    DECISION_WORDS,
    ban_words,
    decided_line,
    reason_lower,
    say,
    signed,
)
from bot.studio.personal import gone
from bot.studio.rights import rights
from sitter import contract as c


class Decisions:
    def __init__(self, desk: Desk, cards: Cards, bans: Bans):
        self.desk = desk
        self.cards = cards
        self.bans = bans

    async def decide(self, mod: Who, rid: int, act: str) -> list[Reply]:
        desk, db = self.desk, self.desk.db
        decision = ACTIONS[act][0]
        r = await db.report(rid)
        if r is None:
            return [say(f"Report #{rid} no longer exists.")]
        if r["status"] != "open":
            return [say(decided_line(r, f"Report #{rid} was already decided"))]
        who = signed(mod)
        faces: list[c.Embedding] = []
        if decision == "protect":
            faces = await self._faces_to_protect(r)
            if not faces:
                return [
                    say(
                        f"I couldn't find a face to protect for report #{rid}: the reference "
                        "photos are gone and no face was found in the portrait. Nothing was "
                        "changed; choose another action."
                    )
                ]
        if not await db.decide(rid, decision, who):  # another moderator was faster
            r = await db.report(rid)
            assert r is not None
            return [say(decided_line(r, f"Report #{rid} was already decided"))]
        owner = r["owner_user_id"]
        done: dict[str, Any] = {}
        request = r["reason"] == PROTECT_REQUEST  # a /protect selfie: no portrait, no owner
        if decision != "dismiss" and not request:
            # Every order of the same reference set (retries too) and their copies.
            removed, others = await reach.remove_images_everywhere(
                desk.store, desk.engine, r["order_id"]
            )
            detail: dict[str, Any] = {"order_id": r["order_id"], **removed.as_dict()}
            if others:
                detail["other_orders"] = others
            await db.log(
                who,
                "remove_images",
                target_user_id=owner,
                report_id=rid,
                reason=r["reason"],
                detail=detail,
            )
            done["removed"] = removed.results
            if owner is not None:  # a model learned from the reported face goes too
                await gone.drop_models(desk.store, desk.engine, owner)
        if decision in ("purge", "protect", "ban") and not request:
            # Queued work carries the reference crops: it stops and leaves Redis first.
            await reach.stop_owner_work(desk.store, desk.engine, owner, wf.STOPPED_BY_MODERATOR)
            if owner is not None:
                await rights.drop_person_jobs(desk.store, desk.engine, owner)
            purged: Purge = await db.purge_references(owner)
            await db.log(
                who,
                "purge_references",
                target_user_id=owner,
                report_id=rid,
                reason=r["reason"],
                detail=purged.as_dict(),
            )
            done["purged"] = purged.photos
        if decision == "protect":
            ids = [
                await db.add_protected(e, "moderator", r["reporter_user_id"], rid) for e in faces
            ]
            await db.log(
                who,
                "protect_face",
                target_user_id=owner,
                report_id=rid,
                reason=r["reason"],
                detail={"protected_face_ids": ids, "backend": faces[0].backend},
            )
            done["protected"] = len(ids)
            # ... and every other account's photos of the face, and portraits made from them
            reached = await protect_everywhere(
                desk.store,
                desk.engine,
                [c.ProtectedFace(id=i, embedding=e) for i, e in zip(ids, faces, strict=True)],
                who,
                rid,
                _whose_face(r),
                ANALYZE_TIMEOUT_S,
            )
            if reached.users:
                done["reached"] = reached
        if decision == "ban" and owner is not None:
            await self.bans.ban(who, owner, f"report #{rid}: {reason_lower(r['reason'])}", rid)
        if decision == "dismiss":
            await db.log(who, "dismiss", target_user_id=owner, report_id=rid, reason=r["reason"])
        await self._tell_people(rid, decision, r)
        await self.cards.post(rid)  # every moderators' chat sees the decided card
        return [say(f"Done: report #{rid} {DECISION_WORDS[decision]}. {_counts(done)}")]

    async def _faces_to_protect(self, r: Row) -> list[c.Embedding]:
        desk = self.desk
        if r["face_embedding"]:  # a /protect request: the selfie's embedding, no photo
            vector = json.loads(r["face_embedding"])
            return [c.Embedding(backend=r["face_backend"] or "", vector=vector)]
        if r["set_id"] is not None:
            faces = await desk.db.reference_embeddings(r["owner_user_id"], r["set_id"])
            if faces:
                return faces
        if not r["image_path"] or desk.engine is None:
            return []
        photo = desk.store.media.read(r["image_path"])
        prefix = await rights.job_prefix(desk.store, desk.engine)
        owner = r["owner_user_id"] or 0
        try:
            result = await desk.engine.call(
                c.JOB_ANALYZE,
                c.AnalyzePhotoRequest(photo=photo),
                job_id=rights.analysis_job_id(prefix, owner),
                timeout=ANALYZE_TIMEOUT_S,
            )
        except TimeoutError:
            return []
        if isinstance(result, c.AnalyzePhotoResult) and result.embedding is not None:
            return [result.embedding]
        return []

    async def _tell_people(self, rid: int, decision: str, r: Row) -> None:
        reason = reason_lower(r["reason"])
        if decision == "dismiss":
            outcome = "the moderators looked at it and decided no action was needed."
        else:
            outcome = f"the moderators acted on it: {DECISION_WORDS[decision]}."
        await self.desk.tell_privately(
            r["reporter_platform"],
            r["reporter_pid"],
            r["reporter_chat"],
            f"Your report #{rid} ({reason}) was reviewed: {outcome} Thank you for telling us.",
        )
        if decision == "dismiss" or r["owner_user_id"] is None:
            return
        lines = [
            f"A moderator removed your portraits from order #{r['order_id']} after a report "
            f"({reason})."
        ]
        if decision in ("purge", "protect", "ban"):
            lines.append("Your reference photos were deleted too.")
        if decision == "protect":
            lines.append("The face in them is now protected: photos of it can't be used here.")
        if decision == "ban":
            lines.append(ban_words(None))
        told = await self.desk.tell_privately(
            r["owner_platform"], r["owner_pid"], r["owner_chat"], " ".join(lines)
        )
        if told and decision == "ban":
            await self.desk.db.mark_ban_notified(r["owner_user_id"])


def _whose_face(r: Row) -> set[int]:
    """Accounts a protection does not reach: the reported owner (already purged) and a
    reporter who says the face is theirs ("it's me"): their own photos of themselves."""
    skip = {r["owner_user_id"]} if r["owner_user_id"] is not None else set()
    if r["reason"] == "not_me" and r["reporter_user_id"] is not None:
        skip.add(r["reporter_user_id"])
    return skip


def _counts(done: dict[str, Any]) -> str:
    parts = []
    if "removed" in done:
        parts.append(f"{done['removed']} portraits removed")
    if "purged" in done:
        parts.append(f"{done['purged']} reference photos deleted")
    if "protected" in done:
        parts.append(f"{done['protected']} face embeddings protected")
    if "reached" in done:
        r = done["reached"]
        people = len(r.users)
        parts.append(
            f"and in {people} other account{'s' if people != 1 else ''}: {r.photos} reference "
            f"photos and {r.portraits} portraits of the face deleted"
        )
    return ("(" + ", ".join(parts) + ")") if parts else ""
