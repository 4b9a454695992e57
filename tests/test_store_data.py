"""The store on a real SQLite file: sessions, orders, forget, retention."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.store.store import Store, now_iso


@pytest.fixture
async def store(data_dir: Path):
    s = await Store.open(data_dir / "sitter.db", data_dir / "media")
    yield s
    await s.close()


async def _user_with_data(store: Store) -> tuple[int, int]:
    user = await store.ensure_user("telegram", "42", "Ann", "42")
    uid = user["id"]
    ref = await store.current_set(uid)
    for i in range(3):
        rel, sha = store.media.put(uid, "refs", f"photo {i}".encode(), "jpg")
        pid = await store.add_photo(ref["id"], uid, sha, rel, f"{i}.jpg")
        await store.update_photo(pid, "accepted", embedding=[0.1, 0.2], backend="dlib")
    oid = await store.create_order(
        uid, ref["id"], "telegram", "42", "watercolor", {}, "a prompt", "", {}, [1, 2, 3, 4]
    )
    for idx in range(1, 5):
        rel, sha = store.media.put(uid, "results", f"result {idx}".encode(), "png")
        vid = await store.add_variation(oid, uid, idx, idx, rel, sha, 0.8, True, True, 1)
    await store.create_variation_job(vid, uid, "upscale")
    await store.save_session(uid, "idle", {"style": "watercolor"})
    await store.record_consent(uid, "v1", "text")
    return uid, oid


async def test_session_rev_bumps_and_survives_reopen(data_dir: Path) -> None:
    store = await Store.open(data_dir / "sitter.db", data_dir / "media")
    user = await store.ensure_user("terminal", "a", "A")
    s1 = await store.save_session(user["id"], "style", {"x": "שלום 👋"})
    s2 = await store.save_session(user["id"], "attire", {"x": "שלום 👋", "style": "fantasy"})
    assert (s1.rev, s2.rev) == (1, 2)
    await store.close()
    reopened = await Store.open(data_dir / "sitter.db", data_dir / "media")
    try:
        s = await reopened.session(user["id"])
        assert s is not None and s.state == "attire" and s.data["x"] == "שלום 👋"
        assert len(await reopened.instance_id()) == 12
    finally:
        await reopened.close()


async def test_duplicate_photo_in_a_set_is_refused_by_the_schema(store: Store) -> None:
    import sqlite3

    user = await store.ensure_user("terminal", "b")
    ref = await store.current_set(user["id"])
    await store.add_photo(ref["id"], user["id"], "abc", "u1/refs/abc.jpg", "a.jpg")
    with pytest.raises(sqlite3.IntegrityError):
        await store.add_photo(ref["id"], user["id"], "abc", "u1/refs/abc.jpg", "b.jpg")
    assert (await store.photo_by_sha(ref["id"], "abc")).filename == "a.jpg"


async def test_forget_deletes_rows_and_files_and_counts(store: Store) -> None:
    uid, _ = await _user_with_data(store)
    other, _ = await _user_with_data_other(store)
    counts = await store.forget(uid)
    assert (counts.photos, counts.orders, counts.results) == (3, 1, 4)
    assert counts.files == 7
    assert await store.user_by_id(uid) is None
    assert not store.media.user_dir(uid).exists()
    for table in (
        "reference_photos",
        "orders",
        "variations",
        "variation_jobs",
        "wizard_sessions",
        "consents",
    ):
        row = await store.one(f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", uid)
        assert row[0] == 0, table
    # Someone else's data is untouched.
    assert await store.user_by_id(other) is not None
    assert store.media.user_dir(other).exists()


async def _user_with_data_other(store: Store) -> tuple[int, int]:
    user = await store.ensure_user("discord", "7", "Bo", "7")
    ref = await store.current_set(user["id"])
    rel, sha = store.media.put(user["id"], "refs", b"bo", "jpg")
    await store.add_photo(ref["id"], user["id"], sha, rel, "bo.jpg")
    return user["id"], 0


async def test_retention_sweep_removes_old_photos_and_results(store: Store) -> None:
    uid, oid = await _user_with_data(store)
    await store.set_order(oid, status="delivered")
    old = now_iso(-timedelta(days=40))
    await store.run("UPDATE reference_photos SET created_at = ?", old)
    swept = await store.sweep_retention(reference_days=30, result_days=90)
    assert swept == {"photos": 3, "results": 0, "files": 3}
    assert await store.count_photos((await store.current_set(uid))["id"]) == 0
    ancient = now_iso(-timedelta(days=100))
    await store.run("UPDATE variations SET created_at = ?", ancient)
    swept = await store.sweep_retention(reference_days=30, result_days=90)
    assert swept["results"] == 4 and swept["files"] == 4
    assert await store.variations(oid) == []


async def test_orders_to_follow_and_quota(store: Store) -> None:
    uid, oid = await _user_with_data(store)
    assert [o["id"] for o in await store.orders_to_follow()] == [oid]
    await store.set_order(oid, status="done")
    assert [o["id"] for o in await store.orders_to_follow()] == [oid]  # not delivered yet
    await store.set_order(oid, status="delivered", delivered_at=now_iso())
    assert await store.orders_to_follow() == []
    assert await store.orders_since(uid, "2000-01-01T00:00:00.000Z") == 1
    with pytest.raises(ValueError, match="cannot set"):
        await store.set_order(oid, prompt="x")
    row = await store.order(oid)
    assert json.loads(row["seeds"]) == [1, 2, 3, 4]


async def test_an_orders_portraits_are_typed_like_one_portrait(store: Store) -> None:
    """variations() returns the same typed Portrait as variation() (issue 20 item 4), with
    the columns its words read; the likeness words are those of the row."""
    from bot.store.rows import Portrait
    from bot.studio.core.words import detail_words, likeness_words

    _uid, oid = await _user_with_data(store)
    await store.run("UPDATE variations SET verdict = 'passed', threshold = 0.5, detail_gain = 0.1")
    portraits = await store.variations(oid)
    rows = await store.all("SELECT * FROM variations WHERE order_id = ? ORDER BY idx", oid)
    assert portraits and all(isinstance(v, Portrait) for v in portraits)
    assert portraits == [await store.variation(v.id) for v in portraits]
    for v, row in zip(portraits, rows, strict=True):
        assert (v.id, v.idx, v.path, v.kept) == (row["id"], row["idx"], row["path"], True)
        assert likeness_words(v) == likeness_words(row) and "needed 0.50" in likeness_words(v)
        assert detail_words(v) == detail_words(row) != ""
    with pytest.raises(TypeError):  # the rows' old access is gone: attributes only (typed)
        portraits[0]["no_such_column"]  # type: ignore[index]
    with pytest.raises(TypeError):
        portraits[0]["id"]  # type: ignore[index]
