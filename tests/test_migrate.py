"""Numbered SQL migrations on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from bot.store.migrate import (
    MIGRATIONS_DIR,
    SchemaTooNew,
    current_version,
    migration_files,
    open_db,
)


async def test_fresh_database_gets_every_table(tmp_path: Path) -> None:
    db = await open_db(tmp_path / "s.db")
    latest = migration_files()[-1][0]
    assert await current_version(db) == latest
    async with db.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cur:
        tables = {row[0] for row in await cur.fetchall()}
    for name in (
        "users",
        "consents",
        "reference_sets",
        "reference_photos",
        "wizard_sessions",
        "orders",
        "variations",
        "reports",
        "moderation_actions",
        "protected_faces",
    ):
        assert name in tables
    await db.close()
    # Opening again applies nothing new.
    db = await open_db(tmp_path / "s.db")
    assert await current_version(db) == latest
    await db.close()


async def test_refuses_a_newer_database(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with aiosqlite.connect(path) as raw:
        await raw.execute("PRAGMA user_version = 999")
        await raw.commit()
    with pytest.raises(SchemaTooNew, match="999"):
        await open_db(path)


async def test_a_failing_migration_leaves_no_trace(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_one.sql").write_text("CREATE TABLE a (x INTEGER);")
    (folder / "0002_bad.sql").write_text("CREATE TABLE b (x INTEGER);\nTHIS IS NOT SQL;")
    with pytest.raises(aiosqlite.OperationalError):
        await open_db(tmp_path / "s.db", folder)
    async with aiosqlite.connect(tmp_path / "s.db") as raw:
        async with raw.execute("PRAGMA user_version") as cur:
            assert (await cur.fetchone())[0] == 1
        async with raw.execute("SELECT name FROM sqlite_master WHERE name = 'b'") as cur:
            assert await cur.fetchone() is None  # 0002 rolled back whole


def test_migration_names_are_checked(tmp_path: Path) -> None:
    (tmp_path / "0001_ok.sql").write_text("")
    (tmp_path / "0003_gap.sql").write_text("")
    with pytest.raises(ValueError, match="without gaps"):
        migration_files(tmp_path)
    assert MIGRATIONS_DIR.is_dir()
