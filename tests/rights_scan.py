"""Looking for a person's traces everywhere the studio writes: every SQLite table and
column, the database and WAL files byte for byte, the media folder, the terminal's
output folder, and every key in Redis (strings, hashes, sets, lists)."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from bot.store.store import Store


async def in_tables(store: Store, needles: dict[str, str]) -> list[str]:
    """'table.column: what' for every text cell containing a needle."""
    found = []
    tables = await store.all("SELECT name FROM sqlite_master WHERE type = 'table'")
    for t in [r[0] for r in tables]:
        cols = [r[1] for r in await store.all(f"PRAGMA table_info({t})")]
        for col in cols:
            for what, needle in needles.items():
                row = await store.one(
                    f'SELECT COUNT(*) FROM "{t}" WHERE CAST("{col}" AS TEXT) LIKE ?',
                    f"%{needle}%",
                )
                if row and row[0]:
                    found.append(f"{t}.{col}: {what}")
    return found


def in_files(folder: Path, needles: dict[str, bytes]) -> list[str]:
    """'file: what' for every file under ``folder`` containing a needle (or named by one)."""
    found = []
    if not folder.exists():
        return found
    for p in folder.rglob("*"):
        if not p.is_file():
            continue
        data = p.read_bytes()
        for what, needle in needles.items():
            if needle in data or needle.decode("latin-1") in p.name:
                found.append(f"{p.relative_to(folder)}: {what}")
    return found


async def in_redis(url: str, needles: dict[str, bytes]) -> list[str]:
    """'key: what' for every key of the database whose name or value holds a needle."""
    found = []
    client = Redis.from_url(url)
    try:
        async for key in client.scan_iter(count=1000):
            kind = (await client.type(key)).decode()
            values: list[bytes] = [key]
            if kind == "string":
                values.append(await client.get(key) or b"")
            elif kind == "hash":
                values += [*(await client.hgetall(key)).values()]
            elif kind == "zset":
                values += await client.zrange(key, 0, -1)
            elif kind == "list":
                values += await client.lrange(key, 0, -1)
            elif kind == "set":
                values += list(await client.smembers(key))
            for what, needle in needles.items():
                if any(needle in v for v in values):
                    found.append(f"{key.decode(errors='replace')}: {what}")
    finally:
        await client.aclose()
    return found


def db_files(db_path: Path) -> list[Path]:
    return [p for p in (db_path, Path(f"{db_path}-wal")) if p.exists()]


def in_db_files(db_path: Path, needles: dict[str, bytes]) -> list[str]:
    found = []
    for p in db_files(db_path):
        data = p.read_bytes()
        found += [f"{p.name}: {what}" for what, needle in needles.items() if needle in data]
    return found
