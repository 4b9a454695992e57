"""The references step: photos in, a verdict for each, Done checks the set as a whole."""

from __future__ import annotations

import hashlib
import json
import logging

from bot.store.store import Row
from bot.studio import buttons as b
from bot.studio import rights, uploads, words
from bot.studio import words_chat as w
from bot.studio.conversation import Outcome, State, Turn, again, go, say
from bot.studio.events import Button, IncomingFile, Reply
from bot.studio.inputs import file_ext
from bot.studio.services import Services
from sitter import contract as c

log = logging.getLogger(__name__)

# A new photo is compared with the set only once the set has a majority to compare
# with; otherwise one odd first photo would make every later one "a different
# person". The odd one out is found at Done (check_set) and named.
SET_CHECK_FROM = 3


def embedding(photo: Row) -> c.Embedding:
    """A stored reference photo's face embedding, as the engine takes it."""
    return c.Embedding(backend=photo["backend"] or "", vector=json.loads(photo["embedding"]))


class Photos:
    def __init__(self, services: Services):
        self.s = services

    def done_row(self, rev: int, accepted: int) -> tuple[Button, ...]:
        if accepted >= self.s.settings.min_photos:
            return (Button(words.done_button(accepted), b.wizard(rev, "done"), "primary"),)
        return ()

    def _stay(self, text: str, usable: int) -> Outcome:
        """Stay collecting (a fresh revision), with a Done button once there are enough."""

        async def reply(rev: int) -> list[Reply]:
            return [say(text, self.done_row(rev, usable))]

        return Outcome(to=State.REFERENCES, show=False, then=reply)

    # --- the step -----------------------------------------------------------------------
    async def show(self, turn: Turn) -> list[Reply]:
        settings = self.s.settings
        ref = await self.s.store.current_set(turn.user["id"])
        n = await self.s.store.count_photos(ref["id"])
        text = words.ASK_PHOTOS.format(min=settings.min_photos)
        if n:
            text += "\n" + words.count_line(n, settings.min_photos, settings.max_photos)
        return [say(text, self.done_row(turn.rev, n))]

    async def text(self, turn: Turn, text: str) -> Outcome:
        if text.lower() in ("done", "/done"):
            return await self.done(turn, "")
        return again(say(w.WAITING_FOR_PHOTOS))

    async def files(self, turn: Turn, files: tuple[IncomingFile, ...]) -> Outcome:
        user, settings, store = turn.user, self.s.settings, self.s.store
        ref = await store.current_set(user["id"])
        if not await uploads.engine_alive(self.s):
            kept, refused = await uploads.keep_pending(
                self.s, user, ref["id"], list(files[: settings.max_files_per_message])
            )
            usable = await uploads.usable(self.s, ref["id"])
            return self._stay("\n".join([*refused, uploads.engine_down_text(kept)]), usable)

        async def collecting() -> bool:
            s = await store.session(user["id"])
            return s is not None and s.state == State.REFERENCES

        lines = await uploads.run_burst(
            self.s, user, files, lambda f: self.one_photo(user, ref["id"], f), collecting
        )
        accepted = await store.count_photos(ref["id"])
        lines += ["", words.count_line(accepted, settings.min_photos, settings.max_photos)]
        return self._stay("\n".join(lines), accepted)

    async def one_photo(self, user: Row, set_id: int, f: IncomingFile) -> str:
        """Analyse one file; return the verdict in words (accepted with ✓)."""
        store, engine, settings = self.s.store, self.s.engine, self.s.settings
        if (refusal := uploads.local_refusal(self.s, f)) is not None:
            return refusal
        assert f.data is not None
        if await store.count_photos(set_id) >= settings.max_photos:
            return words.enough_photos(settings.max_photos)
        sha = hashlib.sha256(f.data).hexdigest()
        dup = await store.photo_by_sha(set_id, sha)
        if dup is not None and dup["status"] == "pending":
            await store.delete_photo(dup["id"])  # its check was cut short: check again
        elif dup is not None:
            return words.same_photo(dup["status"])
        rel, sha = store.media.put(user["id"], "refs", f.data, file_ext(f))
        photo_id = await store.add_photo(set_id, user["id"], sha, rel, f.filename[:200])
        accepted = await store.photos(set_id, "accepted")
        req = c.AnalyzePhotoRequest(
            photo=f.data,
            filename=f.filename[:200],
            set_embeddings=[embedding(p) for p in accepted if p["embedding"]]
            if len(accepted) >= SET_CHECK_FROM
            else [],
            protected=[
                c.ProtectedFace(
                    id=p["id"],
                    embedding=c.Embedding(backend=p["backend"], vector=json.loads(p["embedding"])),
                )
                for p in await store.protected_faces()
                # a person's own /protect keeps others out, not themself
                if not (p["source"] == "self" and p["owner_user_id"] == user["id"])
            ],
        )
        job_id = rights.analysis_job_id(await self.s.job_prefix(), user["id"])
        handle = await engine.enqueue(c.JOB_ANALYZE, req, job_id=job_id)
        try:
            result = await engine.result(c.JOB_ANALYZE, handle, timeout=self.s.analyze_timeout_s)
        except TimeoutError:
            await engine.drop([handle.job_id])  # it holds the photo: not left in Redis
            await store.delete_photo(photo_id)
            return uploads.CHECKER_TIMED_OUT + words.CHECK_AGAIN_SOON
        await engine.drop([handle.job_id])  # read: its photo, crop, embedding leave Redis
        if isinstance(result, c.JobFailure):
            await store.delete_photo(photo_id)
            log.warning("photo check failed (%s): %s", result.code, result.message)
            return words.check_failed(words.failure_words(result.code))
        assert isinstance(result, c.AnalyzePhotoResult)
        reasons = [{"problem": i.problem.value, "detail": i.detail} for i in result.issues]
        if not result.accepted or result.embedding is None:
            await rights.refused(store, user["id"], photo_id, reasons, result.protected_match)
            why = "; ".join(words.issue_words(i) for i in result.issues)
            return words.refused(why)
        crop = None
        if result.face_crop:
            crop, _ = store.media.put(user["id"], "crops", result.face_crop, "png")
        await store.update_photo(
            photo_id,
            "accepted",
            reasons,
            embedding=list(result.embedding.vector),
            backend=result.embedding.backend,
            crop_path=crop,
            width=result.width,
            height=result.height,
            quality=dict(result.quality),
        )
        return words.ACCEPTED

    # --- Done ---------------------------------------------------------------------------
    async def done(self, turn: Turn, _arg: str) -> Outcome:
        """Check what waits, compare the set, and go on to the style when enough are left."""
        user, store, minimum = turn.user, self.s.store, self.s.settings.min_photos
        ref = await store.current_set(user["id"])
        pending = await store.photos(ref["id"], "pending")
        checked: list[str] = []
        enough = len(await store.photos(ref["id"], "accepted")) >= minimum
        if (pending or enough) and not await uploads.engine_alive(self.s):
            n = await uploads.usable(self.s, ref["id"])
            return self._stay(uploads.engine_down_text(len(pending)), n)
        if pending:
            checked = await uploads.check_pending(
                self.s, user, ref["id"], lambda f: self.one_photo(user, ref["id"], f)
            )
        accepted = await store.photos(ref["id"], "accepted")
        if checked:
            checked.append("")
        if len(accepted) < minimum:
            return self._stay(
                "\n".join(checked) + words.need_more(minimum, len(accepted)), len(accepted)
            )
        notes: list[str] = []
        if len(accepted) >= 3:
            req = c.CheckSetRequest(embeddings=[embedding(p) for p in accepted])
            job_id = rights.analysis_job_id(await self.s.job_prefix(), user["id"])
            try:
                result = await self.s.engine.call(
                    c.JOB_CHECK_SET, req, job_id=job_id, timeout=self.s.analyze_timeout_s
                )
            except TimeoutError:
                return self._stay(words.SET_CHECK_TIMED_OUT, len(accepted))
            if isinstance(result, c.JobFailure):
                log.warning("set check failed (%s): %s", result.code, result.message)
                why = words.failure_words(result.code)
                return self._stay(words.set_check_failed(why), len(accepted))
            assert isinstance(result, c.CheckSetResult)
            for i in result.outliers:
                if 0 <= i < len(accepted):
                    p = accepted[i]
                    reason = [
                        {
                            "problem": "different_person",
                            "detail": "looks like a different person than the others",
                        }
                    ]
                    await store.update_photo(
                        p["id"],
                        "excluded",
                        reason,
                        embedding=json.loads(p["embedding"]),
                        backend=p["backend"],
                    )
                    notes.append(words.left_out(p["filename"] or "photo " + str(i + 1)))
        left = len(accepted) - len(notes)
        if left < minimum:
            return self._stay("\n".join([*notes, words.leaves_too_few(left, minimum)]), left)
        await store.set_status(ref["id"], "ready")
        return go(State.STYLE, {}, say("\n".join([*checked, *notes, words.photos_ready(left)])))

    async def collect_again(self, user: Row) -> None:
        """Back to collecting (/photos, Back from the style): the set takes photos again."""
        ref = await self.s.store.current_set(user["id"])
        await self.s.store.set_status(ref["id"], "collecting")
