"""The personal model's table (migrations/0017_personal_models.sql) keeps codes only and
guards them: a status outside TrainingStatus, a failure outside Failure and a ready model
without its file are refused by the database itself."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from bot.store.codes import Failure, TrainingStatus
from bot.store.migrate import MIGRATIONS_DIR
from bot.store.store import Store


def test_the_guards_read_the_enums_codes_not_a_list() -> None:
    """The triggers read the table ``codes`` (filled from the enums at every open, see
    tests/test_progress_codes.py): a new TrainingStatus or Failure needs no migration."""
    sql = (MIGRATIONS_DIR / "0017_personal_models.sql").read_text()
    triggers = re.findall(r"CREATE TRIGGER (\w+) .*?NOT IN \((.*?)\)\s*BEGIN", sql, re.S)
    assert len(triggers) == 4
    for name, reads in triggers:
        enum = TrainingStatus if "_status_" in name else Failure
        assert " ".join(reads.split()) == f"SELECT code FROM codes WHERE kind = '{enum.__name__}'"
    guards = sql[sql.index("CREATE TRIGGER") :]
    assert not any(f"'{m.value}'" in guards for m in (*TrainingStatus, *Failure))


async def test_codes_only_and_a_ready_model_has_its_file(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "s.db", tmp_path / "media")
    try:
        user = await store.ensure_user("terminal", "ann", "Ann", "c")
        ref = await store.current_set(user["id"])
        mid = await store.add_personal(user["id"], ref["id"], "v1", "terminal", "c", 10)
        with pytest.raises(sqlite3.IntegrityError, match="TrainingStatus"):
            await store.set_personal(mid, status="Your model is ready!")
        with pytest.raises(sqlite3.IntegrityError, match="Failure"):
            await store.set_personal(mid, error="the engine said something")
        for status in TrainingStatus:  # every code of the enums is taken
            if status != TrainingStatus.READY:
                await store.set_personal(mid, status=status.value)
        for failure in Failure:
            await store.set_personal(mid, error=failure.value)
        await store.set_personal(mid, status="queued", error=None)
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            await store.set_personal(mid, status="ready")  # no file, no hash
        rel, sha = store.media.put(user["id"], "personal", b"lora", "safetensors")
        await store.set_personal(mid, status="ready", path=rel, sha256=sha)
        # Out of date: the row says so, the file and its hash are gone.
        dropped = await store.drop_personal(user["id"], ref["id"], keep_row=True)
        assert dropped.models == 1 and dropped.files == 1
        row = await store.personal(mid)
        assert row["status"] == "outdated" and row["path"] is None and row["sha256"] is None
        assert not store.media.path(rel).exists()
        # The person's consent to it is its own kind: the studio's consent is not it.
        await store.record_consent(user["id"], "p1", "personal words", "personal")
        assert await store.consent(user["id"]) is None
        assert (await store.consent(user["id"], "personal"))["version"] == "p1"
    finally:
        await store.close()
