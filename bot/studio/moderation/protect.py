"""Protecting your own face: ``/protect`` asks for one selfie, keeps only its
embedding (never the photo), and from then on nobody else's photos of that face
are accepted; ``/unprotect`` lifts it.

Only your own face (issue 22: anyone could lock someone else out): the selfie must
match most of your accepted reference photos, compared by the engine at the
protection threshold, and no other account's accepted photos nor anyone else's
protected face (else a set of public photos of a victim would pass as one's own). Such
a protection only refuses new uploads of the face by others; it deletes nothing of
anyone's. Any other selfie goes to the moderators as a request, with its embedding
only; they protect the face (reaching every account: protect_reach.py) or dismiss it."""

from __future__ import annotations

import logging

from bot.store.store import Row
from bot.studio.core import words as w
from bot.studio.core.events import Command, Files, Reply
from bot.studio.jobs import words_failures as wf
from bot.studio.moderation.cards import Cards
from bot.studio.moderation.desk import Desk
from bot.studio.moderation.texts import ANALYZE_TIMEOUT_S, SELFIE_MINUTES, actor, say
from bot.studio.rights import rights
from sitter import contract as c

log = logging.getLogger(__name__)


class Protection:
    def __init__(self, desk: Desk, cards: Cards | None = None):
        self.desk = desk
        self.cards = cards

    async def protect(self, event: Command, user: Row) -> list[Reply]:
        if not event.who.private:
            return [say("Send /protect to me in a private chat: selfies don't belong in a group.")]
        if await self.desk.db.self_protected(user["id"]):
            return [say("Your face is already protected. /unprotect lifts it.")]
        await self.desk.db.expect_input(user["id"], "protect_selfie", minutes=SELFIE_MINUTES)
        return [
            say(
                "Send me one clear selfie (only your face, looking at the camera). I'll keep "
                "its face measurements (an embedding) and never the photo, and from then on "
                "nobody else's photos of you will be accepted here. Your own uploads still "
                "work. /unprotect lifts it at any time (and cancels this)."
            )
        ]

    async def take_selfie(self, event: Files, user: Row) -> list[Reply]:
        desk = self.desk
        files = [f for f in event.files if f.data]
        if len(event.files) != 1 or not files:
            return [say("Please send exactly one selfie for /protect.")]
        if desk.engine is None:
            return [say("The photo checker isn't available right now; please try again later.")]
        prefix = await rights.job_prefix(desk.store, desk.engine)
        try:
            result = await desk.engine.call(
                c.JOB_ANALYZE,
                c.AnalyzePhotoRequest(photo=files[0].data or b"", filename=files[0].filename),
                job_id=rights.analysis_job_id(prefix, user["id"]),
                timeout=ANALYZE_TIMEOUT_S,
            )
        except TimeoutError:
            return [say("The photo checker didn't answer in time. Please send the selfie again.")]
        # The selfie's bytes were never written anywhere; only the embedding is kept.
        if isinstance(result, c.JobFailure):
            log.warning("protect: selfie check failed (%s): %s", result.code, result.message)
            why = wf.failure_words(result.code)
            return [say(f"I couldn't check it: {why}. Please send it again.")]
        assert isinstance(result, c.AnalyzePhotoResult)
        if result.embedding is None or result.face_count != 1:
            why = "; ".join(w.issue_words(i) for i in result.issues) or "I can't use it"
            return [say(f"That selfie won't do: {why}. Please send another.")]
        if not await self._own_face(user, result.embedding) or await self._someone_elses(
            user, result.embedding
        ):
            return await self._ask_moderators(event, user, result.embedding)
        # Only new uploads by others are refused from now on. Nothing anyone else already
        # made is deleted: that (the protection's reach) is for a moderator to decide.
        pid = await desk.db.add_protected(result.embedding, "self", user["id"])
        await desk.db.clear_input(user["id"])
        await desk.db.log(
            actor(event.who),
            "protect_self",
            target_user_id=user["id"],
            detail={"protected_face_id": pid, "backend": result.embedding.backend},
        )
        return [
            say(
                "Done: your face is protected. I kept only its measurements; the selfie "
                "was not stored. /unprotect lifts it."
            )
        ]

    async def _matches(
        self, user: Row, faces: list[c.Embedding], selfie: c.Embedding
    ) -> int | None:
        """How many of ``faces`` match the selfie at the protection threshold (engine);
        None when the engine did not answer."""
        desk = self.desk
        if desk.engine is None:
            return None
        prefix = await rights.job_prefix(desk.store, desk.engine)
        try:
            result = await desk.engine.call(
                c.JOB_CHECK_SET,
                c.CheckSetRequest(
                    embeddings=faces, protected=[c.ProtectedFace(id=1, embedding=selfie)]
                ),
                job_id=rights.analysis_job_id(prefix, user["id"]),
                timeout=ANALYZE_TIMEOUT_S,
            )
        except TimeoutError:
            return None
        if not isinstance(result, c.CheckSetResult):
            return None
        return len({m.index for m in result.protected_matches})

    async def _own_face(self, user: Row, selfie: c.Embedding) -> bool:
        """Does the selfie match most of the person's accepted reference photos?"""
        own = await self.desk.db.reference_embeddings(user["id"])
        if not own:
            return False
        matching = await self._matches(user, own, selfie)
        return matching is not None and 2 * matching > len(own)  # else the moderators decide

    async def _someone_elses(self, user: Row, selfie: c.Embedding) -> bool:
        """Is the face also in another account's accepted photos, or already protected for
        someone else? Then a set of public photos of a victim could pass as one's own: the
        moderators decide. An unanswered check counts as yes."""
        faces = await self.desk.db.others_reference_embeddings(user["id"])
        faces += [p.embedding for p in await self.desk.db.active_protected(user["id"])]
        if not faces:
            return False
        matching = await self._matches(user, faces, selfie)
        return matching is None or matching > 0

    async def _ask_moderators(self, event: Files, user: Row, selfie: c.Embedding) -> list[Reply]:
        """Not the person's own face (as far as their photos show): a request for the
        moderators, with the selfie's embedding only."""
        db = self.desk.db
        await db.clear_input(user["id"])
        if await db.open_protect_request(user["id"]) is not None:
            return [say(w.PROTECT_REQUEST_OPEN)]
        rid = await db.create_protect_request(user["id"], selfie, event.who.platform)
        await db.log(
            actor(event.who),
            "protect_request",
            target_user_id=user["id"],
            report_id=rid,
            detail={"backend": selfie.backend},
        )
        posted = await self.cards.post(rid) if self.cards is not None else False
        return [say(w.protect_request_sent(rid, posted))]

    async def unprotect(self, event: Command, user: Row) -> list[Reply]:
        lifted = await self.desk.db.lift_self_protection(user["id"])
        await self.desk.db.clear_input(user["id"])
        if not lifted:
            return [say("Your face wasn't protected. /protect with a selfie protects it.")]
        await self.desk.db.log(
            actor(event.who), "unprotect_self", target_user_id=user["id"], detail={"lifted": lifted}
        )
        return [say("Your face is no longer protected.")]
