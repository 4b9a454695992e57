"""``sitter db`` and ``sitter doctor`` through the real command line entry point."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cli.main import main


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Path:
    monkeypatch.setenv("SITTER_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SITTER_MODEL", "tiny")
    monkeypatch.setenv("SITTER_FACE_BACKEND", "dlib")
    monkeypatch.delenv("SITTER_TELEGRAM_TOKEN", raising=False)
    monkeypatch.delenv("SITTER_DISCORD_TOKEN", raising=False)
    return data_dir


def test_db_version_and_upgrade(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "version"]) == 0
    assert "no database yet" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "upgraded from version 0" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "already at the latest version" in capsys.readouterr().out
    db = sqlite3.connect(env / "sitter.db")
    db.execute("PRAGMA user_version = 999")
    db.close()
    assert main(["db", "version"]) == 1
    assert "newer than this code" in capsys.readouterr().out


def test_doctor_says_what_is_missing(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SITTER_REDIS_URL", "redis://127.0.0.1:1/0")
    main(["doctor"])
    out = capsys.readouterr().out
    assert "no chat token" in out and "@BotFather" in out
    assert "nothing answers at redis://127.0.0.1:1/0" in out
    assert "styles, wizard with 7 steps" in out  # as the chat counts: "Step 1 of 7"
    assert "will be created on first start" in out
    assert "gpu" in out


def test_doctor_refuses_a_database_newer_than_the_code(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = sqlite3.connect(env / "sitter.db")
    db.execute("PRAGMA user_version = 999")
    db.close()
    assert main(["doctor"]) == 1
    assert "schema version 999 is newer than this code" in capsys.readouterr().out
