"""Data rights on a real SQLite file and real media files: /forget and a moderator's
purge leave nothing of the person behind; the retention sweep deletes old data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from moderation_helpers import all_media, audit_actions, leftovers, picture, seed_person
from studio_harness import RecordingOutbox

from bot.store.moderation_store import ModerationStore, now_iso
from bot.studio.core.core import Studio
from bot.studio.core.events import Command, Press, Who
from bot.studio.rights import rights
from sitter import contract as c
from sitter.config import load_settings

ANN = Who("terminal", "ann", "ann-chat", "Ann")
BOB = Who("terminal", "bob", "bob-chat", "Bob")
MIA = Who("terminal", "mia", "mods", "Mia", private=False, is_moderator=True)


@pytest.fixture
async def studio(redis_url: str, queue_prefix: str, data_dir: Path) -> AsyncIterator[Studio]:
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    s = await Studio.open(settings)
    s.add_outbox("terminal", RecordingOutbox())
    yield s
    await s.aclose()


async def test_forget_through_the_core_leaves_nothing(studio: Studio) -> None:
    store = studio.store
    ann = await seed_person(store, "terminal", "ann")
    bob = await seed_person(store, "terminal", "bob")
    db = ModerationStore(store)
    await db.add_protected(c.Embedding(backend="dlib", vector=[0.1] * 128), "self", ann["user_id"])
    await db.expect_input(ann["user_id"], "report_note", 1)
    await studio.handle(Press(BOB, f"rep:{ann['variations'][0]}:me"))  # a report about Ann
    assert await leftovers(store, ann["user_id"])  # there is something to delete
    bob_files = {f for f in all_media(store) if f.startswith(f"u{bob['user_id']}/")}

    [ask] = await studio.handle(Command(ANN, "forget"))
    confirm = next(b.data for row in ask.buttons for b in row if b.label.startswith("Yes"))
    [done] = await studio.handle(Press(ANN, confirm))
    assert "deleted 3 photos, 1 order and 4 portraits" in done.text, done.text

    assert await leftovers(store, ann["user_id"]) == {}
    assert not store.media.user_dir(ann["user_id"]).exists()
    # Bob's things are untouched; the report is kept for the moderators, pointing at nothing.
    assert {f for f in all_media(store) if f.startswith(f"u{bob['user_id']}/")} == bob_files
    report = await db.report(1)
    assert report["owner_user_id"] is None and report["variation_id"] is None
    [(actor, _, detail)] = [a for a in await audit_actions(store) if a[1] == "forget"]
    assert actor == f"user:{ann['user_id']}"
    assert detail == {
        "photos": 3, "orders": 1, "results": 4, "files": 11, "protections": 1,
        "open_reports": [1],
    }  # fmt: skip


async def test_forget_of_a_banned_person_keeps_only_the_ban(studio: Studio) -> None:
    store = studio.store
    ann = await seed_person(store, "terminal", "ann")
    db = ModerationStore(store)
    await db.ban(ann["user_id"], "spam")
    counts = await rights.forget(store, ann["user_id"])
    assert (counts.photos, counts.orders, counts.results) == (3, 1, 4)
    left = await leftovers(store, ann["user_id"])
    assert left == {"users.id": 1}  # the ban holds; everything they gave is gone
    row = await store.user_by_id(ann["user_id"])
    assert row["banned_at"] and row["ban_reason"] == "spam"


async def test_purge_by_a_moderator_deletes_every_reference_photo(studio: Studio) -> None:
    store = studio.store
    ann = await seed_person(store, "terminal", "ann")
    await studio.handle(Press(BOB, f"rep:{ann['variations'][2]}:me"))
    [done] = await studio.handle(Press(MIA, "mod:1:pur"))
    assert "3 reference photos deleted" in done.text and "4 portraits removed" in done.text
    uid = ann["user_id"]
    for table in ("reference_photos", "reference_sets"):
        row = await store.one(f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", uid)
        assert row[0] == 0, table
    assert await store.one("SELECT 1 FROM reference_photos WHERE embedding IS NOT NULL") is None
    left = [f for f in all_media(store) if f.startswith(f"u{uid}/")]
    assert left == []  # refs, crops, results and the upscaled copy are all gone
    # What stays is the record: the order and its rows, marked removed.
    rows = await store.variations(ann["order_id"])
    assert len(rows) == 4 and all(r.removed_at for r in rows)
    actions = [(a, d) for _, a, d in await audit_actions(store)]
    assert actions[1] == (
        "remove_images",
        {"order_id": 1, "results": 4, "follow_ups": 1, "files": 5, "photos": 0,
         "embeddings": 0},
    )  # fmt: skip
    assert actions[2] == (
        "purge_references",
        {"photos": 3, "embeddings": 3, "files": 6, "results": 0, "follow_ups": 0},
    )


async def test_retention_sweep_deletes_old_photos_and_results_and_logs_it(
    studio: Studio,
) -> None:
    store = studio.store
    old = await seed_person(store, "terminal", "old")
    new = await seed_person(store, "terminal", "new")
    s = studio.settings
    assert (s.reference_retention_days, s.result_retention_days) == (30, 90)
    # Old's photos are 31 days old, results 91; New's photos 29 days, results 89.
    for uid, ref_days, res_days in ((old["user_id"], 31, 91), (new["user_id"], 29, 89)):
        await store.run(
            "UPDATE reference_photos SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) "
            "WHERE user_id = ?",
            f"-{ref_days} days",
            uid,
        )
        await store.run(
            "UPDATE variations SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) "
            "WHERE user_id = ?",
            f"-{res_days} days",
            uid,
        )
    before_new = {f for f in all_media(store) if f.startswith(f"u{new['user_id']}/")}

    await studio.tracker().tick()  # the core's background pass sweeps at once, then hourly

    left_old = [f for f in all_media(store) if f.startswith(f"u{old['user_id']}/")]
    assert left_old == []
    assert {f for f in all_media(store) if f.startswith(f"u{new['user_id']}/")} == before_new
    count = await store.one("SELECT COUNT(*) FROM reference_photos WHERE user_id = ?", 1)
    assert count[0] == 0
    [(actor, action, detail)] = [a for a in await audit_actions(store)]
    assert (actor, action) == ("system", "retention_sweep")
    assert detail == {"photos": 3, "results": 4, "files": 11}
    row = await store.one("SELECT reason FROM moderation_actions")
    assert row[0] == "references after 30 days, results after 90 days"

    # A second sweep finds nothing and logs nothing.
    assert (await rights.sweep(store, s))["files"] == 0
    assert len(await audit_actions(store)) == 1


async def test_expired_pending_inputs_are_swept(studio: Studio) -> None:
    store = studio.store
    ann = await seed_person(store, "terminal", "ann")
    db = ModerationStore(store)
    await db.expect_input(ann["user_id"], "protect_selfie")
    await store.run("UPDATE pending_inputs SET expires_at = ?", now_iso())
    assert await db.pending_input(ann["user_id"]) is None  # expired: not acted on
    swept = await rights.sweep(store, studio.settings)
    assert swept["expired_inputs"] == 1


def test_retention_sentence_names_both_periods() -> None:
    s = load_settings(reference_retention_days=7, result_retention_days=45)
    text = rights.retention_sentence(s)
    assert "after 7 days" in text and "after 45 days" in text and "/forget" in text
    assert json.dumps(text)  # plain text, no markup


@pytest.mark.parametrize(
    ("platform", "pid", "chat"),
    [("terminal", "ann-5521", "ann-5521-chat"), ("telegram", "55210417", "55210417")],
)
async def test_after_a_purge_and_a_forget_nothing_of_the_person_is_anywhere(
    redis_url: str,
    queue_prefix: str,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    platform: str,
    pid: str,
    chat: str,
) -> None:
    """The whole footprint, on the real parts: every SQLite table and column, the
    database and WAL files, the media folder, the terminal's output folder and every
    Redis key (a worker process serves photo checks; no worker paints, so a retry
    stays queued with the reference crops in its request). On Telegram the private
    chat's id is the user's id, and the renderer keeps message ids keyed by it."""
    import asyncio
    import io
    from types import SimpleNamespace

    import msgpack
    from rights_scan import in_db_files, in_files, in_redis, in_tables
    from studio_harness import start_engine, stop

    from bot.studio.core import words as w
    from bot.studio.moderation import Moderation, Place
    from bot.telegram.render import Renderer
    from bot.terminal.app import Terminal

    monkeypatch.setenv("STUDIO_ENGINE_QUEUES", "fast")
    proc = start_engine(redis_url, queue_prefix, data_dir / "engine", log=data_dir / "engine.log")
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    s = await Studio.open(settings)
    s.add_outbox("terminal", RecordingOutbox())
    s.add_outbox("telegram", RecordingOutbox())
    assert isinstance(s.moderation, Moderation)
    s.moderation.add_place("terminal", Place(chats=("mods",)))
    out = data_dir / "out"
    terminal = Terminal(out, Who("terminal", "ann-5521", "ann-5521-chat"), stream=io.StringIO())
    s.store.media.on_delete.append(terminal.forget_copy)
    ann_who = Who(platform, pid, chat, "Ann-5521")
    try:
        store = s.store
        ann = await seed_person(store, platform, pid, chat=chat)
        bob = await seed_person(store, "terminal", "bob")
        uid = ann["user_id"]
        await store.record_consent(uid, w.CONSENT_VERSION, w.CONSENT_TEXT)
        await store.save_session(uid, "idle", {"attire": "a tangerine velvet cape"})
        # How she asked to be described (issue 15): remembered for her next order and
        # kept with the order (with its format) for a retry and /portraits.
        await store.remember_subject(uid, "a woman with marigold curls")
        await store.set_order_look(ann["order_id"], "9:16", "a woman with marigold curls")
        for i, p in enumerate(
            await store.all("SELECT * FROM reference_photos WHERE user_id = ?", uid)
        ):  # her own face measurements (seed_person gives everyone the same ones)
            vec = [0.5521 + i / 100 + k / 10000 for k in range(128)]
            await store.update_photo(p["id"], "accepted", [], embedding=vec, backend="dlib")
            await store.set_fingerprint(p["id"], f"55{i:014x}/55{i + 7:014x}")  # near duplicates
        photos = await store.all("SELECT * FROM reference_photos WHERE user_id = ?", uid)
        files = [p for p in store.media.user_dir(uid).rglob("*") if p.is_file()]
        # /photos: the contact sheet is a picture of her photos (bot/studio/photos/reference_set.py)
        from bot.studio.photos.reference_set import sheet

        her = await store.user(platform, pid)
        shown = await sheet(s.services, her, 1)
        assert shown is not None and shown.images[0].path.exists()
        sheet_data = shown.images[0].path.read_bytes()
        sheet_bytes = {"her contact sheet": sheet_data[len(sheet_data) // 2 :][:64]}
        fingerprints = {f"fingerprint {i}": p["fingerprint"] for i, p in enumerate(photos)}
        assert all(fingerprints.values())
        for v in await store.variations(ann["order_id"]):
            terminal.save(store.media.path(v.path))  # the terminal's copies
        assert len(list(out.iterdir())) == 4
        # A pack order: one look painted (its portrait in the store), one queued (no
        # painter: its request holds the reference crops), what she typed in both.
        from bot.store.pack_orders import NewLook

        looks = [
            NewLook(n, "cinematic", {"attire": "a tangerine velvet cape"}, "p", "", {}, [7])
            for n in ("Dusk", "Rooftop")
        ]
        pack_id = await store.create_pack_order(
            uid, ann["set_id"], platform, chat, "creator", {"attire": "tangerine"}, looks
        )
        pack_png = picture("ann pack portrait 1")
        rel, sha = store.media.put(uid, "results", pack_png, "png")
        await store.add_variation(pack_id, uid, 1, 7, rel, sha, 0.8, True, True, 1)
        first, second = await store.looks(pack_id)
        await store.set_look(first["id"], status="done", delivered_at=now_iso())
        await s.orders.packs.enqueue_look(await store.order(pack_id), second)
        assert len(await store.person_job_ids(uid)) == 1
        await store.set_order(pack_id, status="done")  # (so the retry below may queue)
        # A retry stays queued (no painter): its request holds the reference crops.
        [_, queued] = await s.handle(Press(ann_who, f"r:{ann['order_id']}"))
        assert "queued" in queued.text
        if platform == "telegram":  # the renderer keeps the progress message's id
            await Renderer(None, store)._remember(  # type: ignore[arg-type]
                chat, f"o{ann['order_id']}", SimpleNamespace(message_id=4242)
            )
        # A photo check the bot never read: its result holds the photo.
        job = rights.analysis_job_id(await s.job_prefix(), uid)
        ref_bytes = files[0].read_bytes()
        await s.engine.enqueue(c.JOB_ANALYZE, c.AnalyzePhotoRequest(photo=ref_bytes), job_id=job)
        for _ in range(400):
            if await s.engine.redis.exists(f"arq:result:{job}"):
                break
            await asyncio.sleep(0.05)
        # Ann reported Bob's portrait with a typed note; Bob reports Ann's.
        await s.handle(Command(ann_who, "report", f"rep:{bob['variations'][0]} oth tangerine note"))
        await s.handle(Press(BOB, f"rep:{ann['variations'][0]}:me"))

        photo_bytes = {f"bytes of {p.name}": p.read_bytes()[100:164] for p in files}
        photo_bytes.update(sheet_bytes)
        hashes = {f"hash {p.stem[:8]}": p.stem for p in files}  # content-addressed names
        embeddings = [json.loads(p["embedding"]) for p in photos]
        emb_text = {f"embedding {i}": json.dumps(e) for i, e in enumerate(embeddings)}
        emb_packed = {f"embedding {i}": msgpack.packb(e) for i, e in enumerate(embeddings)}
        found_before = await in_redis(redis_url, {**photo_bytes, **emb_packed})
        assert found_before  # the queue and the kept result hold her photos now

        async def everywhere(text: dict[str, str], raw: dict[str, bytes]) -> list[str]:
            both = {**raw, **{k: v.encode() for k, v in text.items()}}
            return [
                *await in_tables(store, text),
                *in_db_files(settings.db_path, both),
                *in_files(store.media.root, both),
                *in_files(out, both),
                *await in_redis(redis_url, both),
            ]

        # 1. A moderator purges: her photos, hashes and embeddings are gone everywhere.
        rid = (await store.one("SELECT id FROM reports WHERE owner_user_id = ?", uid))[0]
        [done] = await s.handle(Press(MIA, f"mod:{rid}:pur"))
        assert "3 reference photos deleted" in done.text
        await rights_store_checkpoint(store)
        needles = {**hashes, **emb_text, **fingerprints}
        assert await everywhere(needles, {**photo_bytes, **emb_packed}) == []

        # Issue 15: her avatars (two files of one job) and a relight order's portrait, with
        # the light she typed: rows and files of hers that /forget must find as well.
        v1 = (await store.variations(ann["order_id"]))[0]
        avatars = [
            store.media.put(uid, "avatars", b"avatar-5521-" + bytes([n]) * 96, "png")[0]
            for n in (1, 2)
        ]
        vj = await store.create_variation_job(v1.id, uid, "avatar")
        await store.set_variation_job(
            vj, status="delivered", path=avatars[0], more_paths=json.dumps(avatars[1:])
        )
        light = {"lighting": "tangerine lantern glow", "strength": "subtle"}
        child = await store.create_order(
            uid, None, platform, chat, "watercolor", light, "tangerine lantern glow", "", {}, [7],
            kind="relight", parent_variation_id=v1.id, refine=light,
        )  # fmt: skip
        relit, sha = store.media.put(uid, "results", b"relit-5521-" + bytes(96), "png")
        await store.add_variation(child, uid, 1, 7, relit, sha, 0.8, True, True, 1)
        made = {f"file {r}": store.media.path(r).read_bytes() for r in [*avatars, relit]}
        assert len(in_files(store.media.root, made)) == 3

        # 2. She forgets: nor her ids, name or anything she typed.
        described = {"described": "marigold curls"}
        assert {"remembered_subjects.text: described", "orders.subject: described"} <= set(
            await in_tables(store, described)
        )
        assert in_db_files(settings.db_path, {"described": b"marigold curls"})
        [ask] = await s.handle(Command(ann_who, "forget"))
        confirm = next(b.data for row in ask.buttons for b in row if b.label.startswith("Yes"))
        await s.handle(Press(ann_who, confirm))
        ids = {"platform id": pid, "chat": chat, "typed": "tangerine", **described}
        pack = {"pack portrait": pack_png[100:164], "pack hash": sha.encode()}
        needles = {**ids, **hashes, **emb_text, **fingerprints}
        raw = {**photo_bytes, **emb_packed, **pack, **made}
        assert await everywhere(needles, raw) == []
        assert await leftovers(store, uid, pid) == {}
        assert list(out.iterdir()) == []
    finally:
        await s.aclose()
        stop(proc)


async def rights_store_checkpoint(store) -> None:
    """A purge writes rows; the scan of the files reads them after a checkpoint."""
    from bot.store.rights_store import checkpoint

    assert await checkpoint(store)


async def test_forget_deletes_the_discord_thread_and_message_ids(studio: Studio) -> None:
    """Discord keeps the person's private studio thread (with their user id) and the
    message ids it edits, keyed by channel: /forget deletes both, not another's."""
    from bot.discord.guild_settings import GuildSettingsStore
    from bot.discord.message_keys import MessageKeys

    store = studio.store
    ann = await seed_person(store, "discord", "700100200300", chat="900100200300")
    await seed_person(store, "discord", "700999", chat="900999")
    threads = GuildSettingsStore(store)
    await threads.add_thread(880011, 5, 700100200300)
    await threads.add_thread(880099, 5, 700999)
    keys = MessageKeys(store)
    await keys.put(f"o{ann['order_id']}", 900100200300, 1)
    await keys.put("welcome", 880011, 2)  # in her thread
    await keys.put("other", 900999, 3)
    assert await leftovers(store, ann["user_id"], "700100200300")

    await rights.forget(store, ann["user_id"])
    assert await leftovers(store, ann["user_id"], "700100200300") == {}
    left = await store.all("SELECT chat_id FROM platform_messages")
    assert [r["chat_id"] for r in left] == ["900999"]
    assert await threads.thread_owner(880099) == "700999"
    assert await threads.thread_owner(880011) is None
