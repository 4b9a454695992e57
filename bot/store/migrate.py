"""Plain numbered SQL migrations, the applied version kept in ``PRAGMA user_version``.

Each file and its version bump run in one transaction. A database newer than
the code is refused rather than guessed at. A file with the header line
``-- Foreign keys: off`` rebuilds tables: foreign keys are switched off around its
transaction (a DROP TABLE would otherwise cascade) and checked before the commit.

Once the table ``codes`` exists (0016), every migration and every open fills it from
bot/store/codes.py's guarded enums, so the triggers that read it know a new code without
a migration (:func:`know_codes`).
"""

from __future__ import annotations

import re
from pathlib import Path

import aiosqlite

from bot.store.codes import known_codes

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_FK_OFF = re.compile(r"^-- Foreign keys: off\s*$", re.MULTILINE)


class SchemaTooNew(RuntimeError):
    pass


def migration_files(folder: Path = MIGRATIONS_DIR) -> list[tuple[int, Path]]:
    found = []
    for path in sorted(folder.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise ValueError(f"{path}: migration files are named NNNN_what.sql")
        found.append((int(m.group(1)), path))
    numbers = [n for n, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"{folder}: migrations must be numbered 1..N without gaps: {numbers}")
    return found


async def _pragma(db: aiosqlite.Connection, name: str) -> int:
    async with db.execute(f"PRAGMA {name}") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def current_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def migrate(db: aiosqlite.Connection, folder: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply pending migrations; return the numbers applied."""
    files = migration_files(folder)
    latest = files[-1][0] if files else 0
    version = await current_version(db)
    if version > latest:
        raise SchemaTooNew(
            f"The database is at schema version {version}, but this code knows only up to "
            f"{latest}. Upgrade Sitter (or restore a backup) before starting it."
        )
    applied = []
    for number, path in files:
        if number <= version:
            continue
        sql = path.read_text(encoding="utf-8")
        rebuild = bool(_FK_OFF.search(sql))
        fk_before = await _pragma(db, "foreign_keys")
        if rebuild:
            await db.execute("PRAGMA foreign_keys = OFF")  # no effect inside a transaction
        # executescript would COMMIT first; run the file and the bump as one transaction.
        await db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(sql):
                await db.execute(statement)
            await know_codes(db)  # a later migration's writes are guarded by them too
            if rebuild:
                async with db.execute("PRAGMA foreign_key_check") as cur:
                    broken = list(await cur.fetchall())
                if broken:
                    raise RuntimeError(f"{path.name}: foreign keys broken: {broken[:5]}")
            await db.execute(f"PRAGMA user_version = {number}")
            await db.commit()
        except BaseException:
            await db.rollback()
            raise
        finally:
            if rebuild:
                await db.execute(f"PRAGMA foreign_keys = {fk_before}")
        applied.append(number)
    if await _missing_codes(db):  # a code added to an enum since the last start
        await db.execute("BEGIN IMMEDIATE")
        try:
            await know_codes(db)
            await db.commit()
        except BaseException:
            await db.rollback()
            raise
    return applied


async def _missing_codes(db: aiosqlite.Connection) -> set[tuple[str, str]]:
    """The enums' codes the ``codes`` table lacks (none before 0016 made the table)."""
    async with db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'codes'"
    ) as cur:
        if await cur.fetchone() is None:
            return set()
    async with db.execute("SELECT kind, code FROM codes") as cur:
        have = {(str(r[0]), str(r[1])) for r in await cur.fetchall()}
    return known_codes() - have


async def know_codes(db: aiosqlite.Connection) -> None:
    """Add the guarded enums' codes to the table ``codes`` (inside the caller's
    transaction). Only adds: a code removed from an enum stays known, since old rows may
    still hold it and rewriting them must not be refused."""
    missing = await _missing_codes(db)
    if missing:
        await db.executemany(
            "INSERT OR IGNORE INTO codes (kind, code) VALUES (?, ?)", sorted(missing)
        )


def _statements(sql: str) -> list[str]:
    """Split a migration into statements; a ``CREATE TRIGGER`` runs to its ``END`` (its
    body's own semicolons stay in it). A semicolon inside a string is written char(59)."""
    body = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    statements, held = [], ""
    for piece in body.split(";"):
        held = f"{held};{piece}" if held else piece
        if _TRIGGER.match(held) and not _END.search(held):
            continue  # inside a trigger's BEGIN ... END
        if held.strip():
            statements.append(held.strip())
        held = ""
    if held.strip():
        statements.append(held.strip())
    return statements


_TRIGGER = re.compile(r"\s*CREATE\s+(TEMP\s+|TEMPORARY\s+)?TRIGGER\b", re.IGNORECASE)
_END = re.compile(r"\bEND\s*$", re.IGNORECASE)


# How long a statement waits for a lock another program holds (a backup, an sqlite3
# shell) before "database is locked": longer than such a hold usually lasts; past it the
# studio says it is busy and that nothing was lost (sitter/outage.py, kind "database").
BUSY_TIMEOUT_S = 15.0


async def open_db(path: Path, folder: Path = MIGRATIONS_DIR) -> aiosqlite.Connection:
    """Open (creating) the database, set safe pragmas and bring the schema up to date."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = await aiosqlite.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    db.row_factory = aiosqlite.Row
    await db.execute("PRAGMA journal_mode = WAL")
    await db.execute("PRAGMA foreign_keys = ON")
    await db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    # Deleted rows are overwritten, not left in free pages: /forget means gone from the file.
    await db.execute("PRAGMA secure_delete = ON")
    try:
        await migrate(db, folder)
    except BaseException:
        await db.close()
        raise
    return db
