"""A personal model leaves nothing behind (issue 23, item 5), on a real Redis and a real
SQLite file: after /forget no byte of the LoRA (its file, an order's request carrying
it, a training's checkpoint in Redis) is in the database, its files, the media folder
or Redis; a moderator's removal, purge and ban reach it the same way, and so does the
retention sweep (protect: test_personal_flow)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from moderation_helpers import seed_person
from redis.asyncio import Redis
from rights_scan import in_db_files, in_files, in_redis, in_tables
from studio_harness import RecordingOutbox

from bot.store.moderation_store import ModerationStore
from bot.studio.core import words
from bot.studio.core.core import Studio
from bot.studio.core.events import Command, Press, Who
from bot.studio.personal import buttons as pmb
from sitter import contract as c
from sitter.config import load_settings

ANN = Who("terminal", "ann", "ann-chat", "Ann")
MIA = Who("terminal", "mia", "mods", "Mia", private=False, is_moderator=True)
LORA = b"\x00personal-lora-bytes-" + hashlib.sha256(b"ann").digest() * 8
CHECKPOINT = b"\x00checkpoint-of-ann-" + hashlib.sha256(b"ckpt").digest() * 4


@pytest.fixture
async def studio(redis_url: str, queue_prefix: str, data_dir: Path) -> AsyncIterator[Studio]:
    settings = load_settings(
        data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix, min_photos=2,
        train_min_photos=3, daily_quota=100,
    )  # fmt: skip
    s = await Studio.open(settings)  # the real queue client; no worker takes the jobs
    s.add_outbox("terminal", RecordingOutbox())
    yield s
    await s.aclose()


async def _ann_with_a_model(studio: Studio) -> tuple[int, str]:
    """Ann: photos, a ready model from an earlier training (its file), a training of a
    new one queued with a checkpoint in Redis, and an order queued carrying the model.
    Returns (her id, the queued training's job id)."""
    store = studio.store
    seeded = await seed_person(store, "terminal", "ann", photos=3)
    uid, set_id = seeded["user_id"], seeded["set_id"]
    await store.record_consent(uid, words.CONSENT_VERSION, words.CONSENT_TEXT)
    old = await store.add_personal(uid, set_id, "v", "terminal", "ann-chat", 3)
    rel, sha = store.media.put(uid, "personal", LORA, "safetensors")
    await store.set_personal(old, path=rel, sha256=sha, status="ready", delivered_at="x")
    # An order queued now carries the model's bytes in its request (in Redis).
    oid = await store.create_order(
        uid, set_id, "terminal", "ann-chat", "cinematic", {}, "a portrait", "", {}, [1, 2, 3, 4]
    )
    await studio.enqueue_order(oid)
    # She asks for a new one meanwhile (it was made out of date: switched off, for the test).
    await store.set_personal(old, status="outdated", path=None, sha256=None)
    [offer] = await studio.handle(Command(ANN, "train"))
    agree = next(b.data for row in offer.buttons for b in row if b.data.startswith(pmb.AGREE))
    [queued] = await studio.handle(Press(ANN, agree))
    assert queued.edit_key is not None
    row = await store.training_in_flight(uid)
    assert row is not None and row["job_id"]
    await store.set_personal(old, status="ready", path=rel, sha256=sha)  # the old one, kept
    # The worker's checkpoint of the training (what it learned so far).
    redis = Redis.from_url(studio.settings.redis_url)
    key = c.train_checkpoint_key(studio.settings.queue_prefix, str(row["job_id"]))
    await redis.hset(key, mapping={"lora": CHECKPOINT, "state": b'{"step": 40}'})
    await redis.aclose()
    found = await in_redis(studio.settings.redis_url, {"lora": LORA[-48:], "ckpt": CHECKPOINT})
    assert any("lora" in f for f in found) and any("ckpt" in f for f in found), found
    return uid, str(row["job_id"])


def _needles() -> dict[str, bytes]:
    return {"lora": LORA[-48:], "checkpoint": CHECKPOINT[-48:]}


async def test_after_forget_no_byte_of_the_model_is_anywhere(studio: Studio) -> None:
    store, settings = studio.store, studio.settings
    uid, _job = await _ann_with_a_model(studio)
    [ask] = await studio.handle(Command(ANN, "forget"))
    yes = next(b.data for row in ask.buttons for b in row if b.label == "Yes, delete everything")
    await studio.handle(Press(ANN, yes))
    assert await in_redis(settings.redis_url, _needles()) == []
    assert in_files(store.media.root, _needles()) == []
    assert in_db_files(settings.db_path, _needles()) == []
    sha = hashlib.sha256(LORA).hexdigest()
    assert await in_tables(store, {"sha": sha}) == []
    assert await store.all("SELECT id FROM personal_models WHERE user_id = ?", uid) == []


@pytest.mark.parametrize("how", ["remove", "purge", "ban"])
async def test_a_moderators_decision_reaches_the_model(studio: Studio, how: str) -> None:
    store, settings = studio.store, studio.settings
    uid, job_id = await _ann_with_a_model(studio)
    # A file the tracker stored while the decision ran (under the person's lock, which a
    # moderator does not hold): between the drop's read of the rows and its delete.
    store.media.put(uid, "personal", b"raced" + LORA, "safetensors")
    mod = ModerationStore(store)
    if how == "remove":  # a moderator upholds a report: "remove images" (not a purge)
        reporter = await store.ensure_user("terminal", "bob", "Bob", "bob-chat")
        [vid, *_] = [v.id for v in await store.variations(1)]
        rid = await mod.create_report(vid, reporter["id"], "not_me")
        assert studio.moderation is not None
        await studio.moderation.decide(MIA, rid, "rm")  # type: ignore[attr-defined]
    elif how == "purge":  # what a purge/protect/ban decision does to the owner
        from bot.studio.rights import rights

        await rights.drop_person_jobs(store, studio.engine, uid)
        await mod.purge_references(uid)
    else:
        assert studio.moderation is not None
        await studio.moderation.bans.ban("mod", uid, "test")  # type: ignore[attr-defined]
    assert await in_redis(settings.redis_url, {"checkpoint": CHECKPOINT[-48:]}) == []
    assert await store.all("SELECT id FROM personal_models WHERE user_id = ?", uid) == []
    assert in_files(store.media.root, {"lora": LORA[-48:]}) == []
    assert (await studio.engine.state(c.JOB_TRAIN, job_id)).status == "missing"


async def test_the_retention_sweep_deletes_a_model_after_the_reference_period(
    studio: Studio,
) -> None:
    from datetime import timedelta

    from bot.store.store import now_iso
    from bot.studio.rights import rights

    store = studio.store
    seeded = await seed_person(store, "terminal", "ann", photos=3)
    uid, set_id = seeded["user_id"], seeded["set_id"]
    young = await store.add_personal(uid, set_id, "v", "terminal", "ann-chat", 3)
    old = await store.add_personal(uid, set_id, "v", "terminal", "ann-chat", 3)
    paths = {}
    for mid, data in ((young, b"young" + LORA), (old, LORA)):
        rel, sha = store.media.put(uid, "personal", data, "safetensors")
        await store.set_personal(mid, path=rel, sha256=sha, status="ready")
        paths[mid] = store.media.path(rel)
    days = studio.settings.reference_retention_days
    when = now_iso(-timedelta(days=days + 1))
    await store.run("UPDATE personal_models SET created_at = ? WHERE id = ?", when, old)
    swept = await rights.sweep(store, studio.settings)
    assert swept["personal_models"] == 1
    assert await store.personal(old) is None and not paths[old].exists()
    assert await store.personal(young) is not None and paths[young].exists()
