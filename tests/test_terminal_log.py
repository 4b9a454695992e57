"""Issue 22 item 22: raw log lines (``WARNING sitter.heartbeat ...``) appeared between
the terminal studio's messages. The terminal's screen is the chat: log lines go to a
file in the data folder."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import terminal_logging
from sitter.config import load_settings


@pytest.fixture
def root_handlers() -> Iterator[None]:
    root = logging.getLogger()
    kept, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    for h in kept:
        root.addHandler(h)
    root.setLevel(level)


def test_log_lines_go_to_a_file_not_the_chat(
    data_dir: Path, capsys: pytest.CaptureFixture[str], root_handlers: None
) -> None:
    settings = load_settings(data_dir=data_dir)
    path = terminal_logging(settings)
    logging.getLogger("sitter.heartbeat").warning("job x: its worker is gone; handed back")
    out, err = capsys.readouterr()
    assert "its worker is gone" not in out + err
    assert path.parent == data_dir
    assert "WARNING sitter.heartbeat" in path.read_text(encoding="utf-8")
