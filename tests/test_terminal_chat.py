"""``sitter chat`` as a process: photos by path, numbered buttons, results in a folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from studio_harness import (
    TerminalProc,
    photo_folder,
)

from bot.studio.core.events import Button, Image, Press, Reply, Text, Who
from bot.terminal.app import Terminal

pytestmark = pytest.mark.studio_db  # redis_url: the studio tests' own db


def test_terminal_parses_lines(tmp_path: Path) -> None:
    who = Who("terminal", "t", "t")
    term = Terminal(tmp_path / "out", who)
    src = tmp_path / "p.png"
    src.write_bytes(b"\x89PNG fake")
    term.render(
        [
            Reply(
                "pick",
                buttons=((Button("A", "w:1:a"), Button("Own", "w:1:own", "free_text")),),
                images=(Image(src, "#1"),),
            )
        ]
    )
    assert term.parse("1") == Press(who, "w:1:a")
    # A free-text button is pressed like any other (the core asks for the words) ...
    assert term.parse("2") == Press(who, "w:1:own")
    term.render([Reply("Type your answer as a message.")])
    assert term.parse("3") == Text(who, "3")  # ... and the next line is the answer
    assert term.parse("7") == Text(who, "7")  # a step that takes words: a number is words
    term.render([Reply("pick", buttons=((Button("A", "w:2:a"), Button("B", "w:2:b")),))])
    assert term.parse("7") == "There is no choice 7 on screen; choose 1 or 2."
    assert term.parse("hello there") == Text(who, "hello there")
    files = term.parse(f"{src} {src}")
    assert len(files.files) == 2 and files.files[0].data == b"\x89PNG fake"  # type: ignore[union-attr]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no photos" in str(term.parse(str(empty)))
    assert term.parse("/status now").name == "status"  # type: ignore[union-attr]
    assert (tmp_path / "out").is_dir() and any((tmp_path / "out").iterdir())


def test_sitter_chat_end_to_end(redis_url, queue_prefix, data_dir, engine, tmp_path) -> None:
    photos = photo_folder(tmp_path / "photos")
    chat = TerminalProc(redis_url, queue_prefix, data_dir)
    try:
        chat.wait_for("Before we start")
        chat.press("I agree")
        chat.wait_for("Send me photos")
        chat.send(str(photos))
        chat.wait_for("4 good photos so far")
        chat.press("Done")
        chat.wait_for("choose a style")
        chat.press("Pencil sketch")
        chat.wait_for("What should you wear")
        chat.send("a wool coat 🧥")
        chat.wait_for("Where are you")
        for label in ("Library", "Dramatic", "Headshot", "Skip", "Square 1:1 (avatars)"):
            chat.press(label)
        chat.wait_for("Attire: a wool coat 🧥")
        chat.press("✓ Queue it")
        chat.wait_for("is queued")
        line = chat.wait_for("[image] #1")
        path = Path(line.rsplit(": ", 1)[1])
        assert path.is_file() and path.parent == data_dir / "out"
        chat.press("Upscale 1")
        saved = chat.wait_for("[file] #1")
        assert Path(saved.rsplit(": ", 1)[1]).is_file()
        assert chat.quit() == 0
    finally:
        chat.kill()
