"""The references step: photos in, a verdict for each, Done checks the set as a whole."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable

from bot.store.store import Row
from bot.studio.core import buttons as b
from bot.studio.core import words
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import Outcome, State, Turn, again, answer, go, say
from bot.studio.core.events import Button, IncomingFile, Reply
from bot.studio.core.inputs import file_ext
from bot.studio.core.routes import Routes
from bot.studio.core.services import Services
from bot.studio.jobs import words_failures as wf
from bot.studio.pets import sets as pet_sets
from bot.studio.pets import words_pets as wpt
from bot.studio.pets.pets import Pets
from bot.studio.photos import reference_set, uploads
from bot.studio.photos import words_photos as wph
from bot.studio.photos.reference_set import SET_CHECK_FROM, embedding
from bot.studio.rights import rights
from sitter import contract as c
from sitter.face_print import face_print, same_face_picture
from sitter.fingerprint import same_picture
from sitter.i18n import _

log = logging.getLogger(__name__)

# A new photo is compared with the set only once the set has SET_CHECK_FROM photos;
# after each burst and at Done the whole set is judged by its majority
# (bot/studio/photos/reference_set.py), so an odd first photo, or two, is named and set
# aside, never the reason every later photo is "a different person".
__all__ = ["SET_CHECK_FROM", "Photos", "embedding"]
REMOVE = re.compile(r"(?:remove|delete)\s+(?:photo\s+)?(?:#|no\.?\s*)?(\d{1,3})", re.IGNORECASE)
NEW_SET = re.compile(r"(?:start\s+)?(?:a\s+)?new\s+set", re.IGNORECASE)


SheetRow = Callable[[Row, int, int], Awaitable[tuple[Button, ...]]]
AfterDone = Callable[[Row, int, int], Awaitable[list[Reply]]]


class Photos:
    def __init__(self, services: Services, pets: Pets | None = None):
        self.s = services
        self.pets = pets  # the /photos menu of sets (bot/studio/pets/)
        # Other features' words on the set (user, set id, accepted photos): a row of
        # buttons under the /photos ask, replies after Done (the personal model's offer).
        # (A person's own set only: a pet's set has no personal model.)
        self.sheet_rows: list[SheetRow] = []
        self.after_done: list[AfterDone] = []

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
        return await self._show(turn.user, turn.rev)

    async def _show(self, user: Row, rev: int) -> list[Reply]:
        """The set's contact sheet (when it has photos), then the ask with Done."""
        settings = self.s.settings
        ref = await self.s.store.current_set(user["id"])
        n = await self.s.store.count_photos(ref["id"])
        waiting = await self.s.store.count_photos(ref["id"], "pending")  # kept unchecked
        text = _(words.ASK_PHOTOS).format(min=settings.min_photos)
        pet: tuple[Button, ...] = ()  # the person's own set offers a pet's set (issue 25)
        if pet_sets.is_pet(ref):
            text = wpt.ask_photos(ref["pet_name"], ref["subject"], settings.min_photos)
        else:
            pet = (Button(wpt.PET_BUTTON, b.wizard(rev, "pet")),)
        if n:
            text += "\n" + words.count_line(n, settings.min_photos, settings.max_photos)
        if waiting:  # kept while no worker ran: Done checks them (it had no button here)
            text += "\n" + wph.waiting_line(waiting)
        sheet = await reference_set.sheet(self.s, user, rev) if n else None
        own = not pet_sets.is_pet(ref)
        extra = [await row(user, ref["id"], n) for row in self.sheet_rows] if own else []
        rows = (self.done_row(rev, n + waiting), pet, *extra)
        return [*([sheet] if sheet else []), say(text, *rows)]

    def _changed(self, user: Row, text: str) -> Outcome:
        """The set changed: say so, then the new sheet and Done (a fresh revision, so
        the old sheet's buttons are stale)."""

        async def reply(rev: int) -> list[Reply]:
            return [say(text), *await self._show(user, rev)]

        return Outcome(to=State.REFERENCES, show=False, then=reply)

    async def text(self, turn: Turn, text: str) -> Outcome:
        if text.lower() in ("done", "/done"):
            return await self.done(turn, "")
        if m := REMOVE.fullmatch(text.strip()):
            return self._changed(
                turn.user, await reference_set.remove_number(self.s, turn.user, int(m[1]))
            )
        if NEW_SET.fullmatch(text.strip()):
            return await self.new_set(turn, "")
        return again(say(w.WAITING_FOR_PHOTOS))

    async def remove(self, turn: Turn, arg: str) -> Outcome:
        """A Remove button of the sheet (its arg: the photo's id)."""
        if not arg.isdigit():
            return again(say(w.WRONG_STEP_BUTTON))
        return self._changed(turn.user, await reference_set.remove(self.s, turn.user, int(arg)))

    async def new_set(self, turn: Turn, arg: str) -> Outcome:
        """Start a new set: asks first (every photo of the set goes), then does it."""
        if arg == "yes":
            return self._changed(turn.user, await reference_set.new_set(self.s, turn.user))
        ref = await self.s.store.current_set(turn.user["id"])
        kept = await reference_set.kept_counts(self.s.store, ref["id"])
        if not sum(kept.values()):
            pet = pet_sets.is_pet(ref)
            return again(say(wpt.no_photos_yet(ref["pet_name"]) if pet else wph.NO_PHOTOS_YET))
        yes = Button(wph.NEW_SET_YES, b.wizard(turn.rev, "newset", "yes"), "danger")
        keep = Button(wph.NEW_SET_KEEP, b.wizard(turn.rev, "keep"))
        return answer(say(wph.new_set_ask(kept), (yes, keep)))

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
        judged = await reference_set.judge(self.s, user, ref["id"])  # by its majority
        if judged.lines():
            lines += ["", *judged.lines()]
        if judged.out or judged.back:
            reference_set.drop_sheets(store.media, user["id"])
        accepted = await store.count_photos(ref["id"])
        lines += ["", words.count_line(accepted, settings.min_photos, settings.max_photos)]
        return self._stay("\n".join(lines), accepted)

    async def between_orders(self, turn: Turn, files: tuple[IncomingFile, ...]) -> Outcome:
        """Photos sent while no portrait is being chosen go into the set, as /photos says
        they do (they were refused: "I'm not collecting photos now")."""
        await self.collect_again(turn.user)
        store = self.s.store
        s = await store.save_session(turn.user["id"], State.REFERENCES, {}, turn.rev)
        if s is None:  # moved on meanwhile
            return answer()
        now = Turn(turn.user, s.state, s.rev, s.data, self.s)
        out = await self.files(now, files)  # the photo step's own outcome, saved here
        data = now.data if out.data is None else out.data  # at the revision just made
        saved = await store.save_session(turn.user["id"], out.to or State.REFERENCES, data, now.rev)
        later = await out.then(saved.rev) if out.then is not None and saved else []
        return answer(*out.replies, *later)

    async def one_photo(self, user: Row, set_id: int, f: IncomingFile) -> str:
        """Analyse one file; return the verdict in words (accepted with ✓)."""
        store, engine, settings = self.s.store, self.s.engine, self.s.settings
        if (refusal := uploads.local_refusal(self.s, f)) is not None:
            return refusal
        assert f.data is not None
        if await store.count_photos(set_id) >= settings.max_photos:
            return words.enough_photos(settings.max_photos)
        sha = hashlib.sha256(f.data).hexdigest()
        subject = pet_sets.subject((await store.set_subject(set_id))[0])
        dup = await store.photo_by_sha(set_id, sha)
        if dup is not None and dup.status == "pending":
            await store.delete_photo(dup.id)  # its check was cut short: check again
        elif dup is not None:
            return words.same_photo(dup.status)
        rel, sha = store.media.put(user["id"], "refs", f.data, file_ext(f))
        photo_id = await store.add_photo(set_id, user["id"], sha, rel, f.filename[:200])
        accepted = await store.photos(set_id, "accepted")
        req = c.AnalyzePhotoRequest(
            photo=f.data,
            filename=f.filename[:200],
            set_embeddings=[embedding(p) for p in accepted if p.embedding]
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
            ]
            if subject == c.Subject.PERSON
            else [],  # a pet's photo: a face in it is refused (person_in_pet_photo)
            subject=subject,
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
            pet = subject != c.Subject.PERSON  # (a worker without the pet models: say so)
            why = wf.pet_failure_words(result.code) if pet else wf.failure_words(result.code)
            return words.check_failed(why)
        assert isinstance(result, c.AnalyzePhotoResult)
        for n, p in enumerate(accepted, 1):  # the same picture at another size counts once
            if result.fingerprint and same_picture(result.fingerprint, p.fingerprint):
                await store.delete_photo(photo_id)
                return words.same_picture(n)
        excluded = await store.photos(set_id, "excluded")
        aside = [p for p in excluded if p.fingerprint]
        if result.fingerprint and any(
            same_picture(result.fingerprint, p.fingerprint) for p in aside
        ):
            await store.delete_photo(photo_id)  # copies of one picture must not outvote the set
            return words.SAME_PICTURE_ASIDE
        if result.face_crop and excluded:  # ... nor cropped, turned or framed copies of it
            mine = await asyncio.to_thread(face_print, result.face_crop)
            theirs = await reference_set.face_prints(self.s, excluded)
            if any(same_face_picture(mine, p) for p in theirs):
                await store.delete_photo(photo_id)
                return words.SAME_FACE_ASIDE
        reasons = [{"problem": i.problem.value, "detail": i.detail} for i in result.issues]
        problems = {i.problem for i in result.issues}
        if result.embedding is not None and problems == {c.PhotoProblem.DIFFERENT_PERSON}:
            # Kept aside with its face: if most of the set turns out to show this person,
            # the set's majority takes it back (reference_set.judge).
            await self._keep(user["id"], photo_id, "excluded", reasons, result)
            why = "; ".join(words.issue_words(i) for i in result.issues)
            return words.refused(why) + " " + words.SET_ASIDE
        if not result.accepted or result.embedding is None:
            await rights.refused(store, user["id"], photo_id, reasons, result.protected_match)
            why = "; ".join(words.issue_words(i) for i in result.issues)
            return words.refused(why)
        await self._keep(user["id"], photo_id, "accepted", reasons, result)
        return words.ACCEPTED

    async def _keep(
        self,
        user_id: int,
        photo_id: int,
        status: str,
        reasons: list[dict[str, str]],
        r: c.AnalyzePhotoResult,
    ) -> None:
        """Store a photo with its face (accepted, or set aside as someone else)."""
        store = self.s.store
        assert r.embedding is not None
        crop = None
        if r.face_crop:
            crop, _sha = store.media.put(user_id, "crops", r.face_crop, "png")
        await store.update_photo(
            photo_id,
            status,
            reasons,
            embedding=list(r.embedding.vector),
            backend=r.embedding.backend,
            crop_path=crop,
            width=r.width,
            height=r.height,
            quality=dict(r.quality),
        )
        if r.fingerprint:
            await store.set_fingerprint(photo_id, r.fingerprint)

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
        judged = await reference_set.judge(self.s, user, ref["id"])  # by its majority
        accepted = await store.photos(ref["id"], "accepted")
        if judged.error is not None:
            return self._stay(judged.error, len(accepted))
        if judged.out or judged.back:
            reference_set.drop_sheets(store.media, user["id"])
        if checked:
            checked.append("")
        if len(accepted) < minimum:
            return self._stay(
                "\n".join(checked) + words.need_more(minimum, len(accepted)), len(accepted)
            )
        pet = ref["pet_name"] if pet_sets.is_pet(ref) else ""
        notes = reference_set.aside_lines(await store.photos(ref["id"], "excluded"), pet)
        notes += [reference_set.back_line(reference_set.photo_name(p), pet) for p in judged.back]
        left = await store.count_photos(ref["id"])
        if left < minimum:
            return self._stay("\n".join([*notes, words.leaves_too_few(left, minimum)]), left)
        await store.set_status(ref["id"], "ready")
        if pet:  # the pet's portrait next
            ready = say("\n".join([*checked, *notes, wpt.photos_ready(left, pet)]))
            return go(State.STYLE, pet_sets.pet_data(ref), ready)
        offers = [r for hook in self.after_done for r in await hook(user, ref["id"], left)]
        ready = say("\n".join([*checked, *notes, words.photos_ready(left)]))
        return go(State.STYLE, {}, ready, *offers)

    def register(self, routes: Routes) -> None:
        routes.on_command("photos", self.more_photos)
        routes.on_command("done", self.done_command)

    async def more_photos(self, turn: Turn) -> Outcome:
        """/photos: back to the references step; the answers so far are kept. With a pet's
        set: whose photos first (bot/studio/pets/pets.py's menu)."""
        if self.pets is not None and (menu := await self.pets.photos_menu(turn)) is not None:
            return answer(menu)
        await self.collect_again(turn.user)
        return go(State.REFERENCES)

    async def done_command(self, turn: Turn) -> list[Reply] | Outcome:
        """/done: the references step's Done, typed (a command elsewhere it is not)."""
        if turn.state != State.REFERENCES:
            return [say(w.unknown_command("done"))]
        return await self.done(turn, "")

    async def collect_again(self, user: Row) -> None:
        """Back to collecting (/photos, Back from the style): the set takes photos again."""
        ref = await self.s.store.current_set(user["id"])
        await self.s.store.set_status(ref["id"], "collecting")
