"""Nothing kept that shouldn't be (issue 13, items 4 to 9), on a real Redis, a real
SQLite file, real files and a real worker process (dlib analysis of real photos)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from conftest import FACES, needs_shared
from moderation_helpers import audit_actions, leftovers, seed_person
from rights_scan import in_db_files, in_files, in_redis, in_tables
from studio_harness import RecordingOutbox, incoming, start_engine, stop

from bot.studio.core import buttons as b
from bot.studio.core import words as w
from bot.studio.core.core import Studio
from bot.studio.core.events import Command, Files, IncomingFile, Press, Reply, Who
from bot.studio.moderation import Moderation, Place
from bot.studio.rights import rights
from sitter import contract as c
from sitter.config import load_settings

ANN = Who("terminal", "ann", "ann-chat", "Ann")
BOB = Who("terminal", "bob", "bob-chat", "Bob")
DAVE = Who("terminal", "dave", "dave-chat", "Dave")
MIA = Who("terminal", "mia", "mods", "Mia", private=False, is_moderator=True)


@pytest.fixture
def engine(redis_url: str, queue_prefix: str, data_dir: Path) -> Iterator[None]:
    proc = start_engine(redis_url, queue_prefix, data_dir / "engine", log=data_dir / "engine.log")
    yield
    stop(proc)


@pytest.fixture
async def studio(redis_url, queue_prefix, data_dir, engine) -> AsyncIterator[Studio]:
    settings = load_settings(
        data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix, min_photos=2,
        daily_quota=8,
    )  # fmt: skip
    s = await Studio.open(settings, analyze_timeout_s=120)
    s.add_outbox("terminal", RecordingOutbox())
    assert isinstance(s.moderation, Moderation)
    s.moderation.add_place("terminal", Place(chats=("mods",)))
    yield s
    await s.aclose()


def _press(replies: list[Reply], label: str) -> str:
    return next(btn.data for r in replies for row in r.buttons for btn in row if btn.label == label)


async def _consent(studio: Studio, who: Who) -> None:
    replies = await studio.handle(Command(who, "start"))
    if any(btn.label == "I agree" for r in replies for row in r.buttons for btn in row):
        await studio.handle(Press(who, _press(replies, "I agree")))


async def _send(studio: Studio, who: Who, *files: IncomingFile) -> str:
    return "\n".join(r.text for r in await studio.handle(Files(who, files)))


def _photo(name: str) -> IncomingFile:
    return incoming(FACES / name)


# --- item 4 ---------------------------------------------------------------------------------------
@needs_shared
async def test_refused_uploads_are_deleted_at_once(studio: Studio, tmp_path: Path) -> None:
    store = studio.store
    # Dave protects his own face with a selfie first (it matches his own photo: issue 22).
    await _consent(studio, DAVE)
    assert "✓ accepted" in await _send(studio, DAVE, _photo("kit_harington/2.jpg"))
    await studio.handle(Command(DAVE, "protect"))
    selfie = _photo("kit_harington/1.jpg")
    assert "your face is protected" in await _send(studio, DAVE, selfie)

    await _consent(studio, ANN)
    link = tmp_path / "holiday.jpg"
    link.symlink_to("/etc/passwd")  # what the terminal read through a symlink
    passwd = link.read_bytes()
    junk = IncomingFile("holiday.jpg", passwd, len(passwd))
    group = _photo("group/1.jpg")
    good = [_photo(f"obama/{n}.jpg") for n in (1, 2, 3)]
    other = _photo("biden/1.jpg")  # another person than the set
    dave = _photo("kit_harington/3.jpg")  # Dave's protected face
    verdicts = await _send(studio, ANN, junk, group, *good)
    verdicts += "\n" + await _send(studio, ANN, other, dave)
    assert verdicts.count("✓ accepted") == 3, verdicts
    ann = await store.user("terminal", "ann")

    # Only the accepted photos' files are on disk; the refused ones left no byte.
    refs = sorted(p.name for p in store.media.user_dir(ann["id"]).rglob("*") if p.is_file())
    assert len(refs) == 6, refs  # 3 photos + 3 face crops
    refused = {f.filename: f.data for f in (junk, group, other, dave)}
    needles = {name: data[len(data) // 2 : len(data) // 2 + 64] for name, data in refused.items()}
    assert in_files(store.media.root.parent, needles) == []
    rows = await store.all(
        "SELECT * FROM reference_photos WHERE user_id = ? AND status = 'refused'", ann["id"]
    )
    assert {r["sha256"] for r in rows} == {hashlib.sha256(d).hexdigest() for d in refused.values()}
    for r in rows:  # the hash and the reason; no file, crop, name or embedding
        assert (r["path"], r["crop_path"], r["filename"], r["embedding"]) == ("", None, "", None)
        assert json.loads(r["reasons"])
    # Sending the junk again is recognised by its hash alone.
    assert "same photo as one you already sent (refused)" in await _send(studio, ANN, junk)

    # The protected-face match is in the audit log, without the photo.
    [match] = [a for a in await audit_actions(store) if a[1] == "protected_match"]
    assert match[2] == {"photos": 1, "protected_face_ids": [1]}
    # The selfie was never written anywhere.
    selfie_bytes = {"selfie": (selfie.data or b"")[5000:5064]}
    assert in_files(store.media.root.parent, selfie_bytes) == []


# --- item 5 ---------------------------------------------------------------------------------------
@needs_shared
async def test_redis_keeps_no_photos_after_analysis_and_forget(
    studio: Studio, redis_url: str
) -> None:
    await _consent(studio, ANN)
    photos = [_photo("obama/1.jpg"), _photo("obama/2.jpg")]
    assert (await _send(studio, ANN, *photos)).count("✓ accepted") == 2
    needles = {f.filename: (f.data or b"")[4000:4064] for f in photos}
    assert await in_redis(redis_url, needles) == []  # the analysis results went when read
    # The /protect selfie ("not stored") is not in Redis either (Dave's own face: it
    # matches his photo, issue 22).
    await _consent(studio, DAVE)
    assert "✓ accepted" in await _send(studio, DAVE, _photo("kit_harington/2.jpg"))
    await studio.handle(Command(DAVE, "protect"))
    selfie = _photo("kit_harington/1.jpg")
    assert "your face is protected" in await _send(studio, DAVE, selfie)
    assert await in_redis(redis_url, {"selfie": (selfie.data or b"")[4000:4064]}) == []

    # A photo check the bot never read (it stopped in between): the result sits in Redis
    # until /forget removes it; Dave's own leftover check stays (he is not forgotten).
    ann = await studio.store.user("terminal", "ann")
    prefix = await studio.job_prefix()
    extra = _photo("obama/3.jpg").data or b""
    dave_photo = _photo("kit_harington/2.jpg").data or b""
    for uid, data in ((ann["id"], extra), (2, dave_photo)):
        job = rights.analysis_job_id(prefix, uid)
        await studio.engine.enqueue(c.JOB_ANALYZE, c.AnalyzePhotoRequest(photo=data), job_id=job)
    leftover = {"ann": extra[4000:4064], "dave": dave_photo[4000:4064]}
    for _ in range(400):
        if len(await in_redis(redis_url, leftover)) >= 2 and not await studio.engine.redis.zcard(
            c.queue_name(studio.engine.prefix, c.QUEUE_FAST)
        ):
            break
        await asyncio.sleep(0.05)
    found = await in_redis(redis_url, leftover)
    assert any(f.endswith("ann") for f in found), found
    [ask] = await studio.handle(Command(ANN, "forget"))
    await studio.handle(Press(ANN, _press([ask], "Yes, delete everything")))
    found = await in_redis(redis_url, leftover)
    assert [f for f in found if f.endswith("ann")] == []
    assert [f for f in found if f.endswith("dave")]  # only Ann's went


# --- item 6 ---------------------------------------------------------------------------------------
async def test_forget_scrubs_the_reporters_identity_and_typed_notes(
    redis_url: str, queue_prefix: str, data_dir: Path
) -> None:
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    s = await Studio.open(settings)
    s.add_outbox("terminal", RecordingOutbox())
    try:
        store = s.store
        ann = await seed_person(store, "terminal", "ann")
        reporter = Who("terminal", "bob-4471", "bob-4471-chat", "Bob Quenneville")
        await seed_person(store, "terminal", "bob-4471")
        await store.record_consent(2, w.CONSENT_VERSION, w.CONSENT_TEXT)
        note = "that is me at Quenneville Farm, call 555-0199"
        v = ann["variations"][0]
        [ack] = await s.handle(Command(reporter, "report", f"rep:{v} me {note}"))
        assert "Your report #1" in ack.text
        await s.handle(Press(reporter, "rep:n:1"))
        await s.handle(__import__("bot.studio.core.events", fromlist=["Text"]).Text(
            reporter, "more: Quenneville Farm gate code 4471"
        ))  # fmt: skip
        report = await store.one("SELECT text FROM reports WHERE id = 1")
        assert "555-0199" in report["text"] and "gate code" in report["text"]

        await rights.forget(store, 2)  # Bob forgets

        needles = {
            "platform id": "bob-4471",
            "name": "Quenneville",
            "note": "555-0199",
            "details": "gate code",
        }
        assert await in_tables(store, needles) == []
        raw = {k: v.encode() for k, v in needles.items()}
        assert in_db_files(settings.db_path, raw) == []
        # The report itself and the record of what happened stay, with a pseudonym.
        report = await store.one("SELECT * FROM reports WHERE id = 1")
        assert report["reason"] == "not_me" and report["reporter_user_id"] is None
        actors = {a[0] for a in await audit_actions(store)}
        assert actors == {"user:2"}, actors
        assert "moderation log" in w.privacy(settings) and "number" in w.privacy(settings)
    finally:
        await s.aclose()


# --- item 7 ---------------------------------------------------------------------------------------
async def test_retention_sweeps_orders_sessions_consents_and_sets(
    redis_url: str, queue_prefix: str, data_dir: Path
) -> None:
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    s = await Studio.open(settings)
    try:
        store = s.store
        old = await seed_person(store, "terminal", "old")
        new = await seed_person(store, "terminal", "new")
        uid = old["user_id"]
        for table, col, days in (
            ("reference_photos", "created_at", 31),
            ("reference_sets", "created_at", 31),
            ("wizard_sessions", "updated_at", 31),
            ("users", "created_at", 31),
            ("consents", "accepted_at", 31),
            ("orders", "created_at", 91),
            ("variations", "created_at", 91),
        ):
            key = "id" if table == "users" else "user_id"
            await store.run(
                f"UPDATE {table} SET {col} = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) "
                f"WHERE {key} = ?",
                f"-{days} days",
                uid,
            )
        await s.tracker().tick()  # the background pass sweeps at once
        assert await leftovers(store, uid) == {}  # orders, sessions, consents, sets, account
        assert await store.one("SELECT 1 FROM orders WHERE prompt LIKE '%suit%' AND user_id = ?",
                               new["user_id"])  # fmt: skip
        assert (await leftovers(store, new["user_id"])).keys() >= {"orders.user_id", "files"}
        [(_, action, detail)] = await audit_actions(store)
        assert action == "retention_sweep"
        assert detail["orders"] == 1 and detail["sessions"] == 1 and detail["consents"] == 1
        assert detail["reference_sets"] == 1 and detail["accounts"] == 1
        text = w.privacy(settings)
        assert "orders (prompts, answers, seeds) 90 days" in text and "consent" in text
    finally:
        await s.aclose()


# --- item 8 ---------------------------------------------------------------------------------------
async def test_the_daily_quota_survives_forget(
    redis_url: str, queue_prefix: str, data_dir: Path
) -> None:
    settings = load_settings(
        data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix, daily_quota=8
    )
    s = await Studio.open(settings)
    s.add_outbox("terminal", RecordingOutbox())
    try:
        store = s.store
        ann = await seed_person(store, "terminal", "ann")  # one order today
        await rights.forget(store, ann["user_id"])
        again = await seed_person(store, "terminal", "ann", tag="again")  # starts over
        await store.record_consent(again["user_id"], w.CONSENT_VERSION, w.CONSENT_TEXT)
        [refusal] = await s.handle(Press(ANN, b.item("r", again["order_id"])))
        assert refusal.text == (
            "That's 4 images, and you have 0 of today's 8 left (8 used). The daily limit "
            "counts images: a portrait order is 4, a pack one per image it paints. It resets "
            "at midnight UTC."
        )
        [status] = await s.handle(Command(ANN, "status"))
        assert "Images today: 8 of 8." in status.text
        # What is kept names nobody: a keyed hash of the day and the account.
        marks = await store.all("SELECT * FROM quota_marks")
        assert len(marks) == 1 and marks[0]["orders"] == 4  # images
        assert "ann" not in marks[0]["mark"] and len(marks[0]["mark"]) == 64
        assert "daily limit still holds after /forget" in w.privacy(settings)
        # Bob, another account, is not limited by Ann's mark.
        bob = await seed_person(store, "terminal", "bob")
        await store.record_consent(bob["user_id"], w.CONSENT_VERSION, w.CONSENT_TEXT)
        [_, queued] = await s.handle(Press(BOB, b.item("r", bob["order_id"])))
        assert "queued" in queued.text
    finally:
        await s.aclose()


def _empty(wal: Path) -> bool:
    return not wal.exists() or wal.stat().st_size == 0


# --- item 9 ---------------------------------------------------------------------------------------
async def test_terminal_copies_and_the_wal_go_with_forget(
    redis_url: str, queue_prefix: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sitter chat``'s loop (bot/terminal/app.py TerminalChat, started by bot/app.py)
    on a real pipe: delivered portraits are copied to data/out; /forget removes the
    copies, and the WAL is checkpointed while the studio still runs."""
    from bot.app import run_studio
    from bot.terminal.app import TerminalChat

    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    pid = "ann7f3e9"
    monkeypatch.setattr("getpass.getuser", lambda: pid)
    from bot.store.store import Store

    pre = await Store.open(settings.db_path, settings.media_dir)
    ann = await seed_person(pre, "terminal", pid, chat=f"terminal:{pid}")
    await pre.record_consent(ann["user_id"], w.CONSENT_VERSION, w.CONSENT_TEXT)
    await pre.save_session(ann["user_id"], "idle", {"attire": "a zebra-striped kimono 7f3e9"})
    await pre.set_order(ann["order_id"], status="done")  # finished while the bot was away
    await pre.close()
    out = data_dir / "out"
    r, wfd = os.pipe()
    stdin = os.fdopen(r, "r")
    writer = os.fdopen(wfd, "w")
    screen = io.StringIO()
    chat = run_studio(settings, [TerminalChat(out, stdin, screen)], worker=False, local_redis=False)
    task = asyncio.create_task(chat)
    try:
        for _ in range(200):
            if out.is_dir() and len(list(out.iterdir())) == 4:
                break
            await asyncio.sleep(0.05)
        assert len(list(out.iterdir())) == 4  # the 4 delivered portraits, copied
        writer.write("/forget\n")
        writer.flush()
        yes = None
        for _ in range(200):  # numbered after the results still on screen
            if found := re.findall(r"\[(\d+)\] Yes, delete everything", screen.getvalue()):
                yes = found[-1]
                break
            await asyncio.sleep(0.05)
        assert yes is not None, screen.getvalue()
        writer.write(f"{yes}\n")
        writer.flush()
        for _ in range(200):
            if not list(out.iterdir()):
                break
            await asyncio.sleep(0.05)
        assert list(out.iterdir()) == []
        # Still running: the WAL is checkpointed after the forget (empty, not only at
        # exit), and neither database file holds the person any more.
        wal = Path(f"{settings.db_path}-wal")
        for _ in range(200):
            if _empty(wal):
                break
            await asyncio.sleep(0.05)
        assert _empty(wal)
        needles = {"platform id": pid.encode(), "typed": b"zebra-striped"}
        assert in_db_files(settings.db_path, needles) == []
        writer.write("/quit\n")
        writer.flush()
        assert await asyncio.wait_for(task, 20) == 0
    finally:
        writer.close()
        if not task.done():
            task.cancel()
        stdin.close()
