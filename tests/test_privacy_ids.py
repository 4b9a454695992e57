"""Ids are never reused (issue 13, item 3): migration 0007 rebuilds the tables with
AUTOINCREMENT on a real SQLite file that already holds data (kept, with its foreign
keys), and through the core a forgotten person's ids are not handed to the next
person, so an old Report button can't file a report against someone else."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from moderation_helpers import seed_person
from studio_harness import RecordingOutbox

from bot.store.migrate import MIGRATIONS_DIR, current_version, migration_files, open_db
from bot.studio.core.core import Studio
from bot.studio.core.events import Press, Who
from bot.studio.rights import rights
from sitter.config import load_settings

BOB = Who("terminal", "bob", "bob-chat", "Bob")
TABLES = (
    "users", "consents", "reference_sets", "reference_photos", "orders", "variations",
    "variation_jobs", "reports", "moderation_actions", "protected_faces",
)  # fmt: skip


async def test_migration_0007_keeps_data_and_foreign_keys_and_never_reuses(
    tmp_path: Path,
) -> None:
    old = tmp_path / "old-migrations"
    old.mkdir()
    for f in sorted(MIGRATIONS_DIR.glob("000[1-4]_*.sql")):
        shutil.copy(f, old / f.name)
    path = tmp_path / "s.db"
    db = await open_db(path, old)  # a database as today's main leaves it (version 4)
    assert await current_version(db) == 4
    for sql in (
        "INSERT INTO users (id, platform, platform_user_id) VALUES (1, 'telegram', '11'), "
        "(2, 'telegram', '22'), (3, 'telegram', '33')",
        "INSERT INTO reference_sets (id, user_id) VALUES (1, 1), (2, 2)",
        "INSERT INTO orders (id, user_id, set_id, platform, style, prompt, enqueues, progress) "
        "VALUES (1, 1, 1, 'telegram', 's', 'p1', 2, 'queued'), (2, 2, 2, 'telegram', 's', 'p2', "
        "0, NULL)",
        "INSERT INTO variations (id, order_id, user_id, idx, seed) VALUES (1, 1, 1, 1, 5), "
        "(2, 2, 2, 1, 6)",
        "INSERT INTO reports (id, variation_id, order_id, owner_user_id, reporter_user_id, "
        "reason, platform) VALUES (1, 2, 2, 2, 1, 'not_me', 'telegram')",
        "INSERT INTO moderation_actions (actor, action, target_user_id, report_id) "
        "VALUES ('telegram:9', 'ban', 3, 1)",
        # deleted orders and portraits named only inside the audit log's JSON detail
        "INSERT INTO moderation_actions (actor, action, detail) VALUES ('system', 'remove', "
        '\'{"order_id": 5, "variation_id": 8, "other_orders": [6, 9]}\'), '
        "('system', 'note', 'not json')",
        # user 3 was forgotten: the audit log still names id 3; the newest user is gone
        "DELETE FROM users WHERE id = 3",
    ):
        await db.execute(sql)
    await db.commit()
    await db.close()

    db = await open_db(path)  # today's code: migrations 0005 to 0007 run
    assert await current_version(db) == len(migration_files())
    db.row_factory = aiosqlite.Row
    for table in TABLES:
        async with db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)) as cur:
            assert "AUTOINCREMENT" in (await cur.fetchone())[0], table
    # (0016: what the progress message shows is a code now: 'queued' passed through)
    sql = "SELECT id, prompt, enqueues, progress_code FROM orders ORDER BY id"
    async with db.execute(sql) as cur:
        assert [tuple(r) for r in await cur.fetchall()] == [
            (1, "p1", 2, "queued"), (2, "p2", 0, None)
        ]  # fmt: skip
    async with db.execute("SELECT name FROM pragma_table_info('variations')") as cur:
        columns = {r[0] for r in await cur.fetchall()}
    assert {"verdict", "threshold", "regenerated", "removed_at"} <= columns  # 0005's kept
    fk_sql = 'SELECT "table", "from" FROM pragma_foreign_key_list(\'orders\')'
    async with db.execute(fk_sql) as cur:
        fks = {tuple(r) for r in await cur.fetchall()}
    assert fks == {
        ("users", "user_id"),
        ("reference_sets", "set_id"),
        ("orders", "retry_of"),
        ("variations", "parent_variation_id"),  # 0011: vary / relight orders
        ("users", "partner_user_id"),  # 0018: a portrait together
        ("reference_sets", "partner_set_id"),
        ("invitations", "invitation_id"),
    }
    async with db.execute("SELECT name FROM sqlite_master WHERE type = 'index'") as cur:
        indexes = {r[0] for r in await cur.fetchall()}
    assert {"orders_user", "reports_reporter", "protected_faces_owner"} <= indexes
    async with db.execute("PRAGMA foreign_keys") as cur:
        assert (await cur.fetchone())[0] == 1
    # The next person is not #3 (the audit log's forgotten id), and cascades still work.
    async with db.execute(
        "INSERT INTO users (platform, platform_user_id) VALUES ('telegram', '44')"
    ) as cur:
        assert cur.lastrowid == 4
    await db.execute("DELETE FROM users WHERE id = 1")
    async with db.execute("SELECT COUNT(*) FROM orders WHERE user_id = 1") as cur:
        assert (await cur.fetchone())[0] == 0  # ON DELETE CASCADE kept
    async with db.execute("SELECT reporter_user_id FROM reports WHERE id = 1") as cur:
        assert (await cur.fetchone())[0] is None  # ON DELETE SET NULL kept
    async with db.execute("INSERT INTO variations (order_id, user_id, idx, seed) "
                          "VALUES (2, 2, 2, 7)") as cur:  # fmt: skip
        assert cur.lastrowid == 9  # above the audit log's portrait 8
    async with db.execute(
        "INSERT INTO orders (user_id, set_id, platform, style, prompt) "
        "VALUES (2, 2, 'telegram', 's', 'p3')"
    ) as cur:
        assert cur.lastrowid == 10  # above the audit log's orders 5, 6 and 9
    await db.close()


@pytest.fixture
async def studio(redis_url: str, queue_prefix: str, data_dir: Path) -> AsyncIterator[Studio]:
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    s = await Studio.open(settings)
    s.add_outbox("terminal", RecordingOutbox())
    yield s
    await s.aclose()


async def test_an_old_report_button_never_reaches_the_next_person(studio: Studio) -> None:
    store = studio.store
    bob = await seed_person(store, "terminal", "bob")
    ann = await seed_person(store, "terminal", "ann")  # the newest person
    await rights.forget(store, ann["user_id"])
    carl = await seed_person(store, "terminal", "carl")
    assert carl["user_id"] > ann["user_id"] > bob["user_id"]
    assert min(carl["variations"]) > max(ann["variations"])
    assert carl["order_id"] > ann["order_id"]
    # Bob still has Ann's old portrait message with its Report button.
    [reply] = await studio.handle(Press(BOB, f"rep:{ann['variations'][0]}:me"))
    assert reply.text == "That portrait is no longer stored, so there is nothing to report."
    assert await store.one("SELECT 1 FROM reports") is None
    # The audit log's forget entry still means Ann: no row has her id now.
    assert await store.user_by_id(ann["user_id"]) is None
