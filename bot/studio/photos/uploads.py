"""Bursts of reference photos: caps, a summary for floods, and photos kept for later.

The references step (bot/studio/photos/photos.py) hands each burst here. The rules:

- at most ``SITTER_MAX_FILES_PER_MESSAGE`` files of one message are looked at; the
  rest are not read or stored, and the answer says so;
- at most ``SITTER_MAX_REFUSED_PER_DAY`` refused files per person per day (counted
  in memory, so a restart forgets the count); after that files are turned away
  unread until midnight UTC;
- more than ``FLOOD_LINES`` files get one summary line instead of a line per file;
- the person's lock is released between files, so a long burst never blocks their
  /cancel or a button for its whole length;
- with no engine worker alive on the fast queue (``sitter.heartbeat``), nothing
  waits for a photo checker that is not there: the photos are kept unchecked
  ("pending") and checked when the person presses Done again. A worker that dies
  mid-burst costs one check's timeout: then the rest are kept the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bot.store.store import Store
from bot.studio.core import words as w
from bot.studio.core.events import IncomingFile
from bot.studio.core.inputs import clean_text, declared_size, file_ext
from bot.studio.core.services import UploadGuard
from bot.studio.photos import words_photos as wph
from sitter import contract as c
from sitter.config import Settings
from sitter.queue import Engine

FLOOD_LINES = 10
# _one_photo's verdict when the checker did not answer: the engine is asked again whether
# a worker is alive, and if none is the rest of the burst is kept unchecked at once.
CHECKER_TIMED_OUT = w.CHECKER_TIMED_OUT


class Parts(Protocol):
    """The parts of the studio a burst uses (``bot.studio.core.services.Services``)."""

    store: Store
    engine: Engine
    settings: Settings
    uploads: UploadGuard
    locks: dict[int, asyncio.Lock]


async def engine_alive(studio: Parts, queue: str = c.QUEUE_FAST) -> bool:
    """A worker's heartbeat is there for ``queue`` (loading counts: it is coming)."""
    return await studio.engine.workers_alive(queue)


def local_refusal(studio: Parts, f: IncomingFile) -> str | None:
    """A verdict that needs no engine (not fetched, too big, empty)."""
    if f.data is None:
        return w.not_fetched(f.error)
    if len(f.data) > studio.settings.max_upload_bytes:
        return w.too_big(len(f.data) / 1e6, studio.settings.max_upload_bytes / 1e6)
    if not f.data:
        return w.EMPTY_FILE
    size = declared_size(f.data)  # a 1 x 64,000,000 strip: refused before any decoding
    if size is not None and max(size) > c.MAX_PIXELS_SIDE:
        return w.too_long(*size, c.MAX_PIXELS_SIDE)
    return None


async def keep_pending(
    studio: Parts, user: Any, set_id: int, files: list[IncomingFile]
) -> tuple[int, list[str]]:
    """Store files unchecked (status pending) to check at Done: (how many, verdict lines
    for the files refused without the engine)."""
    s = studio.settings
    kept = 0
    lines = []
    for n, f in enumerate(files, 1):
        refusal = local_refusal(studio, f)
        if refusal is not None:
            lines.append(f"{clean_text(f.filename)[:60] or f'photo {n}'}: {refusal}")
            continue
        assert f.data is not None
        sha = hashlib.sha256(f.data).hexdigest()
        if await studio.store.photo_by_sha(set_id, sha) is not None:
            continue
        if len(await studio.store.photos(set_id)) >= s.max_photos:
            break
        rel, sha = studio.store.media.put(user["id"], "refs", f.data, file_ext(f))
        await studio.store.add_photo(set_id, user["id"], sha, rel, f.filename[:200])
        kept += 1
    return kept, lines


async def usable(studio: Parts, set_id: int) -> int:
    """Accepted photos plus those kept unchecked (for the Done button)."""
    store = studio.store
    return await store.count_photos(set_id) + await store.count_photos(set_id, "pending")


engine_down_text = w.engine_down


async def check_pending(
    studio: Parts, user: Any, set_id: int, one: Callable[[IncomingFile], Awaitable[str]]
) -> list[str]:
    """Check the photos kept while no worker ran; one verdict line each."""
    lines = []
    for p in await studio.store.photos(set_id, "pending"):
        try:
            data = studio.store.media.read(p.path)
        except OSError:
            await studio.store.delete_photo(p.id)
            continue
        verdict = await one(IncomingFile(p.filename or "", data, len(data)))
        lines.append(f"{p.filename or 'photo'}: {verdict}")
    return lines


async def run_burst(
    studio: Parts,
    user: Any,
    files: tuple[IncomingFile, ...],
    one: Callable[[IncomingFile], Awaitable[str]],
    still_collecting: Callable[[], Awaitable[bool]],
) -> list[str]:
    """Verdict lines for a burst (or a summary), within the caps."""
    s = studio.settings
    guard: UploadGuard = studio.uploads
    guard.max_refused = s.max_refused_per_day
    cap = s.max_files_per_message
    looked = list(files[:cap])
    lock = studio.locks.get(user["id"])
    verdicts: list[tuple[str, str]] = []
    stopped = False
    turned_away = 0
    kept_for_later: int | None = None
    for n, f in enumerate(looked, 1):
        if n > 1 and lock is not None and lock.locked():
            # let the person's other events (a /cancel, a button) in between files
            lock.release()
            try:
                await asyncio.sleep(0)
            finally:
                await lock.acquire()
            if not await still_collecting():
                stopped = True
                break
        label = clean_text(f.filename)[:60] or f"photo {n}"
        if guard.blocked(user["id"]):
            turned_away += 1
            continue
        verdict = await one(f)
        if verdict.startswith(CHECKER_TIMED_OUT) and not await engine_alive(studio):
            set_id = (await studio.store.current_set(user["id"]))["id"]
            kept_for_later, refused = await keep_pending(studio, user, set_id, looked[n - 1 :])
            verdicts += [(line, "") for line in refused]
            break
        if verdict.startswith("✗"):
            guard.note_refused(user["id"])
        verdicts.append((label, verdict))
    lines: list[str] = []
    if len(files) > FLOOD_LINES:
        ok = sum(v.startswith("✓") for _, v in verdicts)
        # Every reason, each with the files it refused: "and 13 other reasons" hid which
        # photo was refused for what (issue 22).
        why: dict[str, list[str]] = {}
        for label, v in verdicts:
            if v and v[0] != "✓":
                why.setdefault(v.lstrip("✗ ").rstrip("."), []).append(label)
        checked = sum(bool(v) for _, v in verdicts)
        n_refused = sum(len(names) for names in why.values())
        lines.append(wph.flood_summary(len(files), checked, ok, n_refused))
        by_count = sorted(why.items(), key=lambda kv: -len(kv[1]))
        lines += [wph.flood_reason(reason, names) for reason, names in by_count]
    else:
        lines += [f"{label}: {verdict}" if verdict else label for label, verdict in verdicts]
    if len(files) > cap:
        lines.append(w.over_cap(cap, len(files) - cap))
    if turned_away:
        lines.append(w.turned_away(guard.refused_today(user["id"]), turned_away))
    if stopped:
        lines.append(w.MOVED_ON)
    if kept_for_later is not None:
        lines.append(engine_down_text(kept_for_later))
    return lines
