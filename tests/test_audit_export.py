"""``sitter audit --since ... --format csv|json --output FILE`` on a real database."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bot.store.moderation_store import ModerationStore
from bot.store.store import Store
from cli.audit import AuditError, parse_since, render
from cli.main import main


async def seed_log(data_dir: Path) -> None:
    store = await Store.open(data_dir / "sitter.db", data_dir / "media")
    db = ModerationStore(store)
    try:
        await db.log("system", "retention_sweep", detail={"photos": 2})
        await db.log(
            "telegram:42 (Mia)", "ban", target_user_id=7, report_id=3,
            reason="report #3: sexual or degrading",
        )  # fmt: skip
        await db.log("user:9", "forget", target_user_id=9, detail={"photos": 5, "note": "çé, 日本"})
        # Back-date the first entry to October.
        await store.run(
            "UPDATE moderation_actions SET created_at = ? WHERE id = 1", "2026-10-15T10:00:00.000Z"
        )
    finally:
        await store.close()


@pytest.fixture
async def logged(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    await seed_log(data_dir)
    monkeypatch.setenv("SITTER_DATA_DIR", str(data_dir))
    return data_dir


def test_csv_since_a_date_to_a_file(logged: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "audit.csv"
    code = main(["audit", "--since", "2026-11-01", "--format", "csv", "--output", str(out)])
    assert code == 0
    assert "2 audit entries written to" in capsys.readouterr().err
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["action"] for r in rows] == ["ban", "forget"]
    ban = rows[0]
    assert ban["actor"] == "telegram:42 (Mia)" and ban["target_user_id"] == "7"
    assert ban["report_id"] == "3" and ban["reason"] == "report #3: sexual or degrading"
    assert ban["created_at"].startswith("20") and ban["created_at"].endswith("Z")
    assert json.loads(rows[1]["detail"]) == {"note": "çé, 日本", "photos": 5}


def test_json_everything_to_stdout(logged: Path, capsys) -> None:
    assert main(["audit", "--format", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["action"] for e in entries] == ["retention_sweep", "ban", "forget"]
    assert entries[0]["detail"] == {"photos": 2} and entries[0]["report_id"] is None
    assert set(entries[0]) == {
        "id", "created_at", "actor", "action", "target_user_id", "report_id", "reason", "detail",
    }  # fmt: skip


def test_bad_since_and_missing_database_are_explained(
    logged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    assert main(["audit", "--since", "last tuesday"]) == 2
    err = capsys.readouterr().err
    assert "--since 'last tuesday' is not a date; use YYYY-MM-DD" in err
    monkeypatch.setenv("SITTER_DATA_DIR", str(tmp_path / "nowhere"))
    assert main(["audit"]) == 2
    assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()  # an export never creates a database


def test_since_parsing() -> None:
    assert parse_since("2026-11-01") == "2026-11-01T00:00:00.000Z"
    assert parse_since("2026-11-01T12:30") == "2026-11-01T12:30:00.000Z"
    assert parse_since("2026-11-01T12:30+02:00") == "2026-11-01T10:30:00.000Z"
    assert parse_since("2026-11-01T12:30:00Z") == "2026-11-01T12:30:00.000Z"
    assert parse_since(None) is None and parse_since(" ") is None
    with pytest.raises(AuditError):
        parse_since("01/11/2026")
    with pytest.raises(AuditError, match="unknown format"):
        render([], "xml")
    assert render([], "csv").splitlines() == [
        "id,created_at,actor,action,target_user_id,report_id,reason,detail"
    ]
