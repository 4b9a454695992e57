"""``sitter db upgrade|version``: the database schema, by hand."""

from __future__ import annotations

import argparse
import asyncio

import aiosqlite

from bot.store.migrate import SchemaTooNew, current_version, migrate, migration_files
from sitter.config import Settings


async def schema_state(settings: Settings) -> tuple[int, int]:
    """(version in the database, latest the code knows); 0 when there is no database."""
    latest = migration_files()[-1][0]
    if not settings.db_path.exists():
        return 0, latest
    async with aiosqlite.connect(settings.db_path) as db:
        return await current_version(db), latest


async def _upgrade(settings: Settings) -> int:
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    async with aiosqlite.connect(settings.db_path, isolation_level=None) as db:
        before = await current_version(db)
        try:
            applied = await migrate(db)
        except SchemaTooNew as exc:
            print(exc)
            return 1
    if applied:
        print(
            f"{settings.db_path}: upgraded from version {before} to {applied[-1]} "
            f"(applied {', '.join(f'{n:04d}' for n in applied)})."
        )
    else:
        print(f"{settings.db_path}: already at the latest version ({before}).")
    return 0


async def _version(settings: Settings) -> int:
    version, latest = await schema_state(settings)
    if not settings.db_path.exists():
        print(
            f"{settings.db_path}: no database yet (it is created on first start, "
            f"or with `sitter db upgrade`). Code knows version {latest}."
        )
        return 0
    print(f"{settings.db_path}: schema version {version}; this code knows up to {latest}.")
    if version < latest:
        print("Run `sitter db upgrade` (the bot also upgrades on start).")
    elif version > latest:
        print("The database is newer than this code: upgrade Sitter before starting it.")
        return 1
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    action = {"upgrade": _upgrade, "version": _version}[args.action]
    return asyncio.run(action(settings))
