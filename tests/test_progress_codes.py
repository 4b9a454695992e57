"""Codes in storage, words at the edge (issue 20), migration 0016: what an order's
progress message shows is a code and params, old rows' sentences become codes (and read
back in words), and the database refuses a status or failure code outside the enums: its
triggers read the table ``codes``, filled from the enums at every open (no migration per
new code)."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from bot.store import codes
from bot.store.codes import (
    Failure,
    FollowUpStatus,
    LookStatus,
    OrderStatus,
    ProgressCode,
    Shown,
    TrainingStatus,
)
from bot.store.migrate import current_version, migration_files, open_db
from bot.studio.core import words_chat as w
from bot.studio.jobs.words_progress import progress_words
from bot.studio.orders import words_orders as wo
from bot.studio.orders import words_packs as wp

PACK = "LinkedIn headshots"
NOTE = wo.no_worker("no engine worker has been seen for 5 minutes")


async def _old_db(tmp_path: Path) -> Path:
    """A database as 0015 left it (the progress column held sentences)."""
    old = tmp_path / "old-migrations"
    old.mkdir()
    for _, f in migration_files():
        if f.name < "0016":
            shutil.copy(f, old / f.name)
    path = tmp_path / "s.db"
    db = await open_db(path, old)
    assert await current_version(db) == 15
    await db.close()
    return path


# (order id, pack or None, the old sentence, what it reads as after 0016 or None)
OLD = [
    (1, None, wo.queued_text(1, 3, NOTE), wo.queued_text(1, 3)),  # the note: next pass
    (2, None, w.painting_text(2, 4), w.painting_text(2, 4)),
    (3, None, w.painting_progress(3, 4, 35, "render", [2], 4, 1), w.painting_text(3, 4)),
    (4, None, wo.finishing_text(4), wo.finishing_text(4)),
    (5, None, wo.order_cancelled(5), wo.order_cancelled(5)),
    (6, None, "Order #6: something no version of the words said", None),
    (7, None, None, None),
    (8, "linkedin", wp.pack_painting(8, PACK, "Studio", 2, 3, 1), None),
    (9, "linkedin", wp.pack_queued(9, PACK, 2, 4, NOTE), wp.pack_queued(9, PACK, 2, 4)),
    (10, "linkedin", wp.pack_cancelled(10, 1, 4), wp.pack_cancelled(10, 1, 4)),
    (11, "linkedin", wp.pack_finishing(11, PACK), wp.pack_finishing(11, PACK)),
]
LOOKS = [  # (order id, idx, name, status, seeds, delivered)
    (8, 1, "Office", "done", "[1, 2]", 1),
    (8, 2, "Studio", "running", "[3, 4]", 0),
    (8, 3, "Outdoor", "queued", "[5, 6]", 0),
    (9, 1, "Office", "queued", "[1]", 0),
    (9, 2, "Studio", "queued", "[2]", 0),
    (10, 1, "Office", "done", "[1, 2]", 1),
    (10, 2, "Studio", "stopped", "[3, 4, 5, 6]", 0),
    (10, 3, "Outdoor", "cancelled", "[7]", 0),
]


async def test_old_sentences_become_codes_and_read_back_in_words(tmp_path: Path) -> None:
    path = await _old_db(tmp_path)
    async with aiosqlite.connect(path) as db:
        await db.execute("INSERT INTO users (id, platform, platform_user_id) VALUES (1, 't', 'a')")
        for oid, pack, text, _ in OLD:
            await db.execute(
                "INSERT INTO orders (id, user_id, platform, style, prompt, pack, progress) "
                "VALUES (?, 1, 'terminal', 's', 'p', ?, ?)",
                (oid, pack, text),
            )
        for oid, idx, name, status, seeds, sent in LOOKS:
            await db.execute(
                "INSERT INTO order_looks (order_id, user_id, idx, name, style, prompt, seeds, "
                "first, status, delivered_at) VALUES (?, 1, ?, ?, 's', 'p', ?, 1, ?, ?)",
                (oid, idx, name, seeds, status, "2026-12-01" if sent else None),
            )
        await db.commit()
    db = await open_db(path)
    try:
        db.row_factory = aiosqlite.Row
        async with db.execute("SELECT name FROM pragma_table_info('orders')") as cur:
            assert "progress" not in {r[0] for r in await cur.fetchall()}  # no sentence left
        async with db.execute("SELECT id, progress_code, progress_params FROM orders") as cur:
            rows = await cur.fetchall()
        shown = {r["id"]: Shown.read(r["progress_code"], r["progress_params"]) for r in rows}
    finally:
        await db.close()
    for oid, pack, text, now in OLD:
        said = shown[oid]
        if now is None and oid != 8:
            assert said is None, (oid, said)
            continue
        assert said is not None, (oid, text)
        if oid == 8:  # the look's name and how many were sent come from the looks
            assert said == Shown(
                ProgressCode.PACK_PAINTING, {"look": "Studio", "k": 2, "n": 3, "sent": 1}
            )
            now = text
        assert progress_words(oid, said, PACK if pack else "") == now, oid
    assert shown[3] == Shown(ProgressCode.PAINTING, {"variations": 4})  # the bar: next report


async def _fresh(tmp_path: Path) -> aiosqlite.Connection:
    db = await open_db(tmp_path / "new.db")
    await db.execute("INSERT INTO users (id, platform, platform_user_id) VALUES (1, 't', 'a')")
    await db.execute(
        "INSERT INTO orders (id, user_id, platform, style, prompt) VALUES (1, 1, 't', 's', 'p')"
    )
    await db.execute(
        "INSERT INTO order_looks (id, order_id, user_id, idx, name, style, prompt, first) "
        "VALUES (1, 1, 1, 1, 'n', 's', 'p', 1)"
    )
    await db.execute(
        "INSERT INTO variations (id, order_id, user_id, idx, seed) VALUES (1, 1, 1, 1, 5)"
    )
    await db.execute(
        "INSERT INTO variation_jobs (id, variation_id, user_id, kind) VALUES (1, 1, 1, 'upscale')"
    )
    return db


@pytest.mark.parametrize(
    ("table", "enum"),
    [("orders", OrderStatus), ("order_looks", LookStatus), ("variation_jobs", FollowUpStatus)],
)
async def test_the_database_refuses_a_status_or_failure_outside_the_enums(
    tmp_path: Path, table: str, enum: type[OrderStatus]
) -> None:
    db = await _fresh(tmp_path)
    try:
        for status in enum:  # every code of the enum is taken
            await db.execute(f"UPDATE {table} SET status = ? WHERE id = 1", (status.value,))
        for failure in Failure:
            await db.execute(f"UPDATE {table} SET error = ? WHERE id = 1", (failure.value,))
        refused = codes.stored(Failure.AVATAR_REFUSED, problem="no_face")  # a code with params
        await db.execute(f"UPDATE {table} SET error = ? WHERE id = 1", (refused,))
        await db.execute(f"UPDATE {table} SET error = NULL WHERE id = 1")
        with pytest.raises(sqlite3.IntegrityError, match=f"{table}.status"):
            await db.execute(f"UPDATE {table} SET status = 'finished' WHERE id = 1")
        for sentence in ("the engine lost the job", '{"code": "gpu_melted"}', '{"x": 1}'):
            with pytest.raises(sqlite3.IntegrityError, match=f"{table}.error"):
                await db.execute(f"UPDATE {table} SET error = ? WHERE id = 1", (sentence,))
        with pytest.raises(sqlite3.IntegrityError, match=f"{table}.status"):
            await db.execute(f"INSERT INTO {table} (status) VALUES ('Queued')")
    finally:
        await db.close()


async def test_the_progress_code_is_guarded_too(tmp_path: Path) -> None:
    db = await _fresh(tmp_path)
    try:
        for code in ProgressCode:
            await db.execute("UPDATE orders SET progress_code = ? WHERE id = 1", (code.value,))
        with pytest.raises(sqlite3.IntegrityError, match="progress_code"):
            await db.execute("UPDATE orders SET progress_code = 'Order #1 is queued' WHERE id = 1")
    finally:
        await db.close()


# Which enum each trigger of 0016 and 0017 guards (by the trigger's name).
GUARDS = {
    "orders_status": OrderStatus,
    "order_looks_status": LookStatus,
    "variation_jobs_status": FollowUpStatus,
    "personal_models_status": TrainingStatus,
    "orders_progress": ProgressCode,
    "orders_error": Failure,
    "order_looks_error": Failure,
    "variation_jobs_error": Failure,
    "personal_models_error": Failure,
}
# The only literals a trigger may hold: the kind it reads, the JSON of a failure with
# params ('$.code', '{', ''), its message. No code is written out.
_READS = re.compile(r"NOT IN \(\s*SELECT code FROM codes WHERE kind = '(\w+)'\)")


async def test_the_triggers_name_no_code_they_read_the_codes_table(tmp_path: Path) -> None:
    db = await open_db(tmp_path / "new.db")
    try:
        async with db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'") as cur:
            triggers = {r[0]: r[1] for r in await cur.fetchall()}
    finally:
        await db.close()
    guarded = {n: sql for n, sql in triggers.items() if "RAISE(ABORT" in sql}
    assert len(guarded) == 18  # 0016's 14, 0017's 4
    for name, sql in guarded.items():
        enum = GUARDS[name.rsplit("_", 1)[0]]
        assert _READS.findall(sql) == [enum.__name__], name
        literals = re.findall(r"'([^']*)'", _READS.sub("", sql.split("RAISE(ABORT")[0]))
        assert set(literals) <= {"$.code", "{", ""}, (name, literals)
        for member in enum:  # not one code written out (a new member needs no migration)
            assert f"'{member.value}'" not in sql, (name, member)


async def test_the_codes_table_is_the_union_of_the_enums_and_only_grows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "new.db"

    async def table() -> set[tuple[str, str]]:
        db = await open_db(path)
        try:
            async with db.execute("SELECT kind, code FROM codes") as cur:
                return {(r[0], r[1]) for r in await cur.fetchall()}
        finally:
            await db.close()

    union = {(e.__name__, m.value) for e in codes.GUARDED for m in e}
    assert {OrderStatus, LookStatus, FollowUpStatus, TrainingStatus, Failure, ProgressCode} == set(
        codes.GUARDED
    )
    assert await table() == union == codes.known_codes()
    # A code added to an enum after the database was made: known at the next open, no
    # migration. A code removed from an enum stays known (old rows may hold it).
    new, gone = ("Failure", "gpu_melted"), ("Failure", "avatar_refused")
    monkeypatch.setattr("bot.store.migrate.known_codes", lambda: (union - {gone}) | {new})
    assert await table() == union | {new}


async def test_a_code_the_enum_gains_is_taken_without_a_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the triggers accept is what the table holds, and the table follows the enums
    at every open: the database refuses a code until an enum has it, then takes it."""
    db = await _fresh(tmp_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match=r"orders\.error"):
            await db.execute("UPDATE orders SET error = 'gpu_melted' WHERE id = 1")
        with pytest.raises(sqlite3.IntegrityError, match=r"orders\.progress_code"):
            await db.execute("UPDATE orders SET progress_code = 'drying' WHERE id = 1")
    finally:
        await db.close()
    more = {("Failure", "gpu_melted"), ("ProgressCode", "drying")}
    monkeypatch.setattr("bot.store.migrate.known_codes", lambda: codes.known_codes() | more)
    db = await open_db(tmp_path / "new.db")
    try:
        assert await current_version(db) == len(migration_files())  # nothing migrated
        await db.execute("UPDATE orders SET error = 'gpu_melted' WHERE id = 1")
        await db.execute("UPDATE orders SET error = ? WHERE id = 1", ('{"code": "gpu_melted"}',))
        await db.execute("UPDATE orders SET progress_code = 'drying' WHERE id = 1")
        with pytest.raises(sqlite3.IntegrityError, match=r"orders\.status"):
            await db.execute("UPDATE orders SET status = 'drying' WHERE id = 1")  # its own kind
        with pytest.raises(sqlite3.IntegrityError, match=r"orders\.error"):
            await db.execute("UPDATE orders SET error = 'gpu_exploded' WHERE id = 1")
    finally:
        await db.close()


async def test_a_later_migration_writes_guarded_codes(tmp_path: Path) -> None:
    """The table is filled inside 0016's own transaction, so a later migration that
    writes statuses or failures (in the same run as 0016) is not refused."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    files = migration_files()
    for _, f in files:
        shutil.copy(f, folder / f.name)
    (folder / f"{len(files) + 1:04d}_later.sql").write_text(
        "-- Reason: a test\n"
        "INSERT INTO users (id, platform, platform_user_id) VALUES (1, 't', 'a');\n"
        "INSERT INTO orders (id, user_id, platform, style, prompt, status, error) "
        "VALUES (1, 1, 't', 's', 'p', 'failed', 'lost');\n"
    )
    db = await open_db(tmp_path / "s.db", folder)
    try:
        async with db.execute("SELECT status, error FROM orders") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [("failed", "lost")]
    finally:
        await db.close()
