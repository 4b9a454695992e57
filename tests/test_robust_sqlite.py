"""Issue 22, item 12: the database locked by another program, or full, while a person
presses "✓ Queue it". A real SQLite file held by a real second process; a real
"database or disk is full" from SQLite's own page limit. On the in-memory engine."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from studio_harness import Chat
from test_pack_orders import WHO, _linkedin, _ready

from bot.store import migrate
from bot.studio.core import words
from bot.studio.core import words_chat as w
from bot.studio.core.core import Studio
from sitter.outage import kind_of

QUEUED = "Order #1 (LinkedIn headshots, 4 looks) is queued"


def _hold_lock(db: Path, seconds: float) -> subprocess.Popen:
    """Another program takes the database's write lock and keeps it ``seconds``."""
    code = (
        "import sqlite3, sys, time\n"
        f"db = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
        "db.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        f"time.sleep({seconds})\n"
        "db.execute('ROLLBACK')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


async def _orders(studio: Studio) -> int:
    async with studio.store.db.execute("SELECT COUNT(*) FROM orders") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def test_a_lock_held_for_seconds_is_waited_for(fake_studio: Studio) -> None:
    """Locked for 7 s (the old busy timeout was 5 s): the press waits and queues."""
    chat = Chat(fake_studio, WHO)
    await _ready(chat)
    await _linkedin(chat)
    holder = _hold_lock(fake_studio.settings.db_path, 7.0)
    try:
        start = time.monotonic()
        [queued] = await chat.press("✓ Queue it")
        waited = time.monotonic() - start
    finally:
        holder.wait(30)
    assert QUEUED in queued.text, queued.text
    assert waited > 4.0  # it really waited for the other program
    assert await _orders(fake_studio) == 1


async def test_past_the_busy_timeout_the_studio_says_busy_and_loses_nothing(
    fake_studio: Studio, caplog: pytest.LogCaptureFixture
) -> None:
    chat = Chat(fake_studio, WHO)
    await _ready(chat)
    summary = await _linkedin(chat)
    await fake_studio.store.db.execute("PRAGMA busy_timeout = 500")  # "within reason", shorter
    holder = _hold_lock(fake_studio.settings.db_path, 3.0)
    try:
        with caplog.at_level(logging.INFO):
            [busy] = await chat.press("✓ Queue it")
    finally:
        holder.wait(30)
    assert busy.text == words.BUSY and busy.text != w.SOMETHING_WENT_WRONG
    assert "Nothing was lost" in busy.text
    assert [r for r in caplog.records if r.exc_info] == []  # no traceback
    assert any(
        "the database is locked by another program" in r.getMessage() for r in caplog.records
    )
    # Nothing lost: the same button, pressed again once the lock is gone, queues the order.
    assert await _orders(fake_studio) == 0
    [queued] = await chat.press("✓ Queue it", summary)
    assert QUEUED in queued.text, queued.text
    assert await _orders(fake_studio) == 1


def _can_mount_tmpfs() -> bool:
    try:
        probe = subprocess.run(
            ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs unshare -rm to mount a small tmpfs")
def test_a_full_disk_under_sqlite_is_an_outage_not_a_traceback_per_try(tmp_path: Path) -> None:
    """A real full disk (a 16 MB tmpfs filled up) under the SQLite file while "Queue it"
    is pressed three times and the tracker runs: SQLite's "database or disk is full" is
    one outage warning and the outage words, not a traceback per try (it was 9 tracebacks
    in 12 s for one order)."""
    import json
    import os

    data = tmp_path / "data"
    data.mkdir()
    tests = Path(__file__).parent
    mount = f"mount -t tmpfs -o size=16m tmpfs {data}"
    run = f'exec "{sys.executable}" {tests / "full_disk_session.py"} {data}'
    env = {**os.environ, "PYTHONPATH": f"{tests.parent}{os.pathsep}{tests}"}
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"{mount} && {run}"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["replies"] == [words.OUTAGE] * 3, seen
    assert seen["tracebacks"] == 0, seen["errors"]
    outage = [m for m in seen["warnings"] if m.startswith("outage:")]
    assert len(outage) == 1 and "the disk refuses writes" in outage[0], seen["warnings"]
    assert "database or disk is full" in outage[0], outage


def test_sqlite_errors_are_told_apart() -> None:
    full = sqlite3.connect(":memory:")
    full.execute("CREATE TABLE t (x)")
    full.execute("PRAGMA max_page_count = 2")
    with pytest.raises(sqlite3.OperationalError) as err:
        full.execute("INSERT INTO t VALUES (zeroblob(100000))")
    assert str(err.value) == "database or disk is full" and kind_of(err.value) == "disk"
    with pytest.raises(sqlite3.OperationalError) as err:
        full.execute("SELECT * FROM no_such_table")
    assert kind_of(err.value) is None  # a bug stays a bug, with its traceback
    assert migrate.BUSY_TIMEOUT_S >= 12  # the 12 s hold is waited for
