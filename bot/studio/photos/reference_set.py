"""The reference set as a person manages it (issue 15).

- **Judged by its majority** (:func:`judge`): every photo with a face, accepted or set
  aside, goes to the engine's set check; the largest group of one person wins. A photo
  of someone else is set aside (status ``excluded``, kept with its face so the majority
  can change its mind) and named; a photo set aside earlier comes back when most of the
  set turns out to show that person. So two photos of a friend among the first three
  no longer make every later photo "a different person". Without a majority (four
  photos of one person, then four of another) the person the set began with is kept
  and the person is told why: a set never holds two people (issue 22).
- **One picture, one vote**: photos whose faces are the same picture (cropped, turned,
  framed or retouched copies: sitter/face_print.py) vote once, so four
  edited copies of someone else's photo never outvote the person's own three.
- **Seen and edited** (``/photos``): a numbered contact sheet of the accepted photos
  (bot/studio/photos/contact_sheet.py) with a Remove button per photo (its id in the button,
  so a number can't point at another photo) and "Start a new set". Removing deletes
  the photo's row, its file and its face crop; a new set deletes every photo of the
  set. A sheet is a picture of the photos too: the person's older sheets are deleted
  whenever a sheet is made or the set changes, and the retention sweep deletes any
  sheet older than :data:`bot.store.media.SHEETS_KEEP_S`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from bot.store.media import SHEETS, MediaStore
from bot.store.rows import Photo
from bot.store.store import Row, Store
from bot.studio.core import buttons as b
from bot.studio.core import words
from bot.studio.core.events import Button, Image, Reply
from bot.studio.core.services import Services
from bot.studio.jobs import words_failures as wf
from bot.studio.personal import gone
from bot.studio.personal import words_personal as wpm
from bot.studio.pets import sets as pet_sets
from bot.studio.pets import words_pets as wpt
from bot.studio.photos import words_photos as wph
from bot.studio.photos.contact_sheet import contact_sheet
from bot.studio.rights import rights
from sitter import contract as c
from sitter.face_print import face_print, same_face_picture

log = logging.getLogger(__name__)

SET_CHECK_FROM = 3  # a new photo is compared with the set from this many (judge: from 2)
SHEET_KIND = SHEETS
MAX_REMOVE_BUTTONS = 20  # beyond these, "remove N" typed (Discord: 5 rows of 5)
# Codes, not words (the words are made when a photo is named: :func:`aside_lines`).
# ``rule``: "majority" (most of the set shows someone else) or "first_person" (no one has
# a majority, so the person of the earliest photos is kept: a set never holds two people).
MAJORITY, FIRST_PERSON = "majority", "first_person"
# The one-person rule sets are judged under (reference_sets.judged_rule; 0: never judged,
# as every set made before it). Raise it when the rule changes, and every set is judged
# again before its next order (:func:`order_refusal`).
RULE = 1


def different(rule: str) -> list[dict[str, str]]:
    return [{"problem": "different_person", "rule": rule}]


def aside_rule(photo: Photo) -> str:
    """Why a photo was set aside as someone else (:data:`MAJORITY` for older rows)."""
    rules = [r.get("rule") for r in photo.reasons if isinstance(r, dict)]
    return FIRST_PERSON if FIRST_PERSON in rules else MAJORITY


def back_line(name: str, pet: str = "") -> str:
    """A photo set aside earlier that the set's majority now agrees with."""
    return wpt.taken_back(name, pet) if pet else words.taken_back(name)


def embedding(photo: Photo) -> c.Embedding:
    if photo.embedding is None:
        raise ValueError(f"photo {photo.id} has no embedding (not analysed yet)")
    return c.Embedding(backend=photo.backend, vector=photo.embedding)


def photo_name(photo: Photo, n: int | None = None) -> str:
    return photo.filename or (f"photo {n}" if n else "a photo")


def aside_lines(photos: list[Photo], pet: str = "") -> list[str]:
    """The words for photos set aside as someone else, and why once when no one had a
    majority (the person the set began with was kept). ``pet``: a pet's set, its name."""
    if pet:
        return [wpt.left_out(photo_name(p), pet) for p in photos]
    first = [aside_rule(p) == FIRST_PERSON for p in photos]
    lines = [
        words.left_out(photo_name(p), first_person=f) for p, f in zip(photos, first, strict=True)
    ]
    return [*lines, words.FIRST_PERSON_KEPT] if any(first) else lines


@dataclass
class Judged:
    """What :func:`judge` changed: photos set aside, photos taken back, or why it could
    not judge (the engine timed out or failed)."""

    out: list[Photo] = field(default_factory=list)
    back: list[Photo] = field(default_factory=list)
    error: str | None = None
    first_person: bool = False  # no majority: the person of the earliest photos was kept
    pet: str = ""  # a pet's set: its name (the words name the animal)

    def lines(self) -> list[str]:
        if self.pet:
            return [
                *(wpt.left_out(photo_name(p), self.pet) for p in self.out),
                *(wpt.taken_back(photo_name(p), self.pet) for p in self.back),
            ]
        out = [words.left_out(photo_name(p), first_person=self.first_person) for p in self.out]
        if out and self.first_person:
            out.append(words.FIRST_PERSON_KEPT)
        return [*out, *(words.taken_back(photo_name(p)) for p in self.back)]


def _print_of(media: MediaStore, photo: Photo) -> Any:
    if not photo.crop_path:
        return None
    try:
        return face_print(media.read(photo.crop_path))
    except (OSError, ValueError):
        return None  # a crop gone missing only turns the check off for that photo


async def face_prints(s: Services, photos: list[Photo]) -> list[Any]:
    """Each photo's face print (sitter/face_print.py), from its stored face crop."""
    media = s.store.media
    return await asyncio.to_thread(lambda: [_print_of(media, p) for p in photos])


def pictures(prints: list[Any]) -> list[int]:
    """For each photo, the index of the first photo of the same picture (itself if none)."""
    first: list[int] = []
    for i, p in enumerate(prints):
        first.append(next((j for j in range(i) if same_face_picture(prints[j], p)), i))
    return [first[f] for f in first]


async def judge(s: Services, user: Row, set_id: int) -> Judged:
    """Judge the set by its majority (see the module docstring)."""
    store = s.store
    faces = [
        p
        for p in await store.photos(set_id)
        if p.status in ("accepted", "excluded") and p.embedding
    ]
    # One vote per picture: the set's copies of one picture go with its first photo.
    owner = await asyncio.to_thread(pictures, await face_prints(s, faces))
    voters = sorted(set(owner))
    if len(voters) < 2:  # (two are judged too: A1, B1 and copies of A1 are two people)
        await store.set_judged(set_id, RULE)
        return Judged()
    code, pet = await store.set_subject(set_id)
    req = c.CheckSetRequest(
        embeddings=[embedding(faces[i]) for i in voters], subject=pet_sets.subject(code)
    )
    job_id = rights.analysis_job_id(await s.job_prefix(), user["id"])
    try:
        result = await s.engine.call(
            c.JOB_CHECK_SET, req, job_id=job_id, timeout=s.analyze_timeout_s
        )
    except TimeoutError:
        return Judged(error=words.SET_CHECK_TIMED_OUT)
    if isinstance(result, c.JobFailure):
        log.warning("set check failed (%s): %s", result.code, result.message)
        return Judged(error=words.set_check_failed(wf.failure_words(result.code)))
    assert isinstance(result, c.CheckSetResult)
    odd_voters = {voters[i] for i in result.outliers if 0 <= i < len(voters)}
    if len(voters) == 2 and len(odd_voters) == 2:  # two that disagree: the first one stays
        odd_voters = {voters[1]}
    odd = {i for i in range(len(faces)) if owner[i] in odd_voters}
    # The engine keeps one person: a majority's, or without one the earliest photos'.
    n = len(voters)
    rule = FIRST_PERSON if odd_voters and 2 * (n - len(odd_voters)) <= n else MAJORITY
    judged = Judged(first_person=rule == FIRST_PERSON, pet=pet)
    for i, p in enumerate(faces):
        want = "excluded" if i in odd else "accepted"
        if p.status == want and (want == "accepted" or aside_rule(p) == rule):
            continue
        await store.update_photo(
            p.id,
            want,
            different(rule) if want == "excluded" else [],
            embedding=p.embedding,
            backend=p.backend or None,
        )
        # named when set aside, or when the reason changed (now: the first person kept)
        (judged.out if want == "excluded" else judged.back).append(p)
    await store.set_judged(set_id, RULE)
    return judged


async def order_refusal(s: Services, user: Row, set_id: int) -> str | None:
    """Before any order on a set ("Queue it", a pack, a retry, a follow-up): a set not
    judged under today's one-person rule (:data:`RULE`) is judged first (:func:`judge`),
    so a set made before the rule (two people's photos accepted) is caught rather than
    painted; then its faces are checked against protected ones (moderation/reach.py).
    The refusal's words, or None."""
    from bot.studio.moderation import reach

    rule = await s.store.judged_rule(set_id)
    pet = (await s.store.set_subject(set_id))[0] != c.Subject.PERSON
    if rule is None or rule >= RULE:  # judged since (each burst and Done judge)
        return None if pet else await reach.check_set(s, user, set_id)  # (faces: a person's)
    judged = await judge(s, user, set_id)
    if judged.error is not None:
        return wph.SET_NOT_CHECKED
    if judged.out:
        drop_sheets(s.store.media, user["id"])
        await s.store.set_status(set_id, "collecting")
        return wph.two_people_at_order(judged.lines())
    return None if pet else await reach.check_set(s, user, set_id)


async def numbered(s: Services, set_id: int) -> list[Photo]:
    """The accepted photos in the order the sheet numbers them (1 = the first kept)."""
    return await s.store.photos(set_id, "accepted")


# --- the contact sheet -----------------------------------------------------------------------
def drop_sheets(media: MediaStore, user_id: int, keep: str | None = None) -> int:
    """Delete every /photos contact sheet of this person but ``keep`` (the set changed,
    or a new sheet). A pack's sheet is another kind: never touched here."""
    return media.delete_kind(user_id, SHEET_KIND, keep)


async def sheet(s: Services, user: Row, rev: int) -> Reply | None:
    """The /photos contact sheet with its buttons; None when the set has no photos."""
    store = s.store
    ref = await store.current_set(user["id"])
    photos = await numbered(s, ref["id"])
    if not photos:
        return None
    pictures = [store.media.read(p.path) for p in photos]
    data = await asyncio.to_thread(contact_sheet, pictures)
    rel, _ = store.media.put(user["id"], SHEET_KIND, data, "jpg")
    # The same photos make the same sheet (the same file): its copies stay where they are.
    drop_sheets(store.media, user["id"], keep=rel)
    aside = [photo_name(p) for p in await store.photos(ref["id"], "excluded")]
    removes = [
        Button(wph.REMOVE_BUTTON.format(n=n), b.wizard(rev, "remove", str(p.id)), "danger")
        for n, p in enumerate(photos[:MAX_REMOVE_BUTTONS], 1)
    ]
    rows = [tuple(removes[i : i + 5]) for i in range(0, len(removes), 5)]
    rows.append((Button(wph.NEW_SET_BUTTON, b.wizard(rev, "newset"), "danger"),))
    caption = f"Your {len(photos)} reference photos, numbered"
    return Reply(
        text=wph.photo_sheet(len(photos), aside),
        buttons=tuple(rows),
        images=(Image(store.media.path(rel), caption),),
    )


# --- changing the set ------------------------------------------------------------------------
async def remove(s: Services, user: Row, photo_id: int) -> str:
    """Remove one photo of the person's current set (row, file, crop; and the sheets)."""
    store = s.store
    ref = await store.current_set(user["id"])
    photos = await numbered(s, ref["id"])
    n = next((i for i, p in enumerate(photos, 1) if p.id == photo_id), None)
    if n is None:
        return wph.no_such_photo(0, len(photos)) if not photos else wph.what_to_remove(len(photos))
    await store.delete_photo(photo_id)
    drop_sheets(store.media, user["id"])
    await store.set_status(ref["id"], "collecting")
    text = wph.photo_removed(n, photo_name(photos[n - 1], n), len(photos) - 1)
    need = s.settings.train_min_photos  # a model learned from it goes (the offer says so)
    if await gone.photo_removed(store, s.engine, user["id"], ref["id"]):
        text += "\n" + wpm.outdated(await store.count_photos(ref["id"]), need)
    return text


async def remove_number(s: Services, user: Row, n: int) -> str:
    """ "remove 3": photo 3 of the sheet."""
    ref = await s.store.current_set(user["id"])
    photos = await numbered(s, ref["id"])
    if not 1 <= n <= len(photos):
        return wph.no_such_photo(n, len(photos))
    return await remove(s, user, photos[n - 1].id)


KEPT_STATUSES = ("accepted", "excluded", "pending")  # a refused upload kept no photo


async def kept_counts(store: Store, set_id: int) -> dict[str, int]:
    """The set's photos that are kept, by status (refused uploads are not photos kept)."""
    return {st: await store.count_photos(set_id, st) for st in KEPT_STATUSES}


async def new_set(s: Services, user: Row) -> str:
    """Delete every photo of the current set (any status) and collect again."""
    store = s.store
    ref = await store.current_set(user["id"])
    kept = await kept_counts(store, ref["id"])
    # Learned from them: files gone, rows kept as what they cost of today's quota.
    dropped = await gone.drop_models(store, s.engine, user["id"], ref["id"], keep_row=True)
    for p in await store.photos(ref["id"]):
        await store.delete_photo(p.id)
    drop_sheets(store.media, user["id"])
    await store.set_status(ref["id"], "collecting")
    if pet_sets.is_pet(ref):
        return wpt.new_set_started(sum(kept.values()), ref["pet_name"])
    text = wph.new_set_started(sum(kept.values()))
    return text + ("\n" + wpm.SET_REPLACED if dropped.models else "")
