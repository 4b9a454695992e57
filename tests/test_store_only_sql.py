"""All SQL lives behind bot/store/: no other module of bot/ writes a query or runs
one on a connection (a write past the Store's lock joins another task's
transaction; a query elsewhere is a schema detail spread through the code)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOT = ROOT / "bot"

# Known exceptions, cleaned by the core reshape (issue 11): remove each line once its
# file has no SQL left (this test says so when that happens).
KNOWN: set[str] = set()  # files allowed SQL outside bot/store/ (none since the reshape)

SQL = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|WITH|PRAGMA|BEGIN|CREATE|DROP|ALTER)\s", re.S
)
RUNS_SQL = {"execute", "executemany", "executescript"}


def sql_in(path: Path) -> list[str]:
    """Lines with a SQL string or a call that runs SQL on a connection."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL.match(node.value):
                found.append(f"{node.lineno}: {node.value.strip()[:60]!r}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in RUNS_SQL
            and node.args
        ):
            found.append(f"{node.lineno}: .{node.func.attr}(...)")
    return found


def test_the_detector_sees_sql() -> None:
    sample = ROOT / "bot" / "store" / "guilds.py"
    assert sql_in(sample), "the detector no longer finds the Store's own SQL"


def test_no_sql_outside_the_store() -> None:
    offenders = {}
    for path in sorted(BOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("bot/store/") or rel in KNOWN:
            continue
        if found := sql_in(path):
            offenders[rel] = found
    assert offenders == {}, f"SQL outside bot/store/ (add a Store method): {offenders}"


def test_no_sql_in_the_engine_or_sitter() -> None:
    """The engine knows no database; sitter/ (config, contract, queue) neither."""
    offenders = {
        p.relative_to(ROOT).as_posix(): found
        for pkg in ("engine", "sitter")
        for p in sorted((ROOT / pkg).rglob("*.py"))
        if (found := sql_in(p))
    }
    assert offenders == {}, offenders


def test_only_the_store_base_and_migrations_touch_the_connection() -> None:
    """Every query and write of bot/store/ goes through Db (one, all, run, tx,
    checkpoint), so writes wait for another task's transaction instead of joining it."""
    raw = re.compile(r"\bdb\.execute(many|script)?\(")
    offenders = [
        p.name
        for p in sorted((ROOT / "bot" / "store").glob("*.py"))
        if p.name not in ("base.py", "migrate.py") and raw.search(p.read_text())
    ]
    assert offenders == [], offenders


def test_known_exceptions_still_need_to_be() -> None:
    cleaned = [rel for rel in sorted(KNOWN) if not sql_in(ROOT / rel)]
    assert cleaned == [], f"no SQL left in {cleaned}: remove them from KNOWN"
