"""Issue 22, items 6 and 7: hostile file names and huge folders in the terminal studio."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path, PurePath

import pytest

from bot.studio.core.events import Files, Reply, Who
from bot.terminal import files
from bot.terminal.app import TERMINAL_HELP, Terminal
from sitter.visible import visible

ROOT = Path(__file__).resolve().parents[1]
WHO = Who("terminal", "t", "t")
# Writes the clipboard (OSC 52), clears the screen, turns the text red.
EVIL = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b[31mEVIL"


def _raw_controls(text: str) -> list[str]:
    return [ch for ch in text if ch not in "\n\t" and (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0)]


def test_file_names_with_terminal_escapes_are_printed_visible(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / f"{EVIL}.txt").write_bytes(b"not a photo")
    (folder / f"{EVIL}\u202egpj.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "ok.jpg").write_bytes(b"\xff\xd8")
    screen = io.StringIO()
    term = Terminal(tmp_path / "out", WHO, stream=screen)
    event = term.parse(str(folder))
    assert isinstance(event, Files)
    names = [f.filename for f in event.files]
    # The studio is handed names it can quote safely, here and in every later answer.
    assert names == ["\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\x1b[31mEVIL\\u202egpj.jpg", "ok.jpg"]
    shown = screen.getvalue()  # "(Left out 1 file that isn't a photo: …)"
    assert "\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\x1b[31mEVIL.txt" in shown
    assert _raw_controls(shown) == []
    # Whatever the studio says (a name quoted from another chat, a bad path), the same.
    term.render([Reply(f"✗ {EVIL}.jpg: no face found")])
    term.parse(f"/nowhere/{EVIL}.jpg")  # not found: said with the name
    shown = screen.getvalue()
    assert "✗ \\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\x1b[31mEVIL.jpg: no face found" in shown
    assert _raw_controls(shown) == [] and "\u202e" not in shown


def test_visible_shows_every_kind_of_control_and_leaves_words_alone() -> None:
    assert visible("Portrait #1 – “Oil painting”, 4 of 4 ✓ 🎨 ä 日本") == (
        "Portrait #1 – “Oil painting”, 4 of 4 ✓ 🎨 ä 日本"
    )
    assert visible("a\x9b31mb\x7fc\u2028d") == "a\\x9b31mb\\x7fc\\u2028d"  # C1 CSI, DEL
    assert visible("bad\udcffbyte.jpg") == "bad\\xffbyte.jpg"  # not UTF-8 on disk
    assert visible("col\tumn", keep="\t") == "col\tumn"
    screen = io.StringIO()
    Terminal(Path("out"), WHO, stream=screen).render([Reply("name\udcff.jpg")])
    screen.getvalue().encode("utf-8")  # printable on a UTF-8 terminal: no UnicodeEncodeError


def _bench():
    path = ROOT / "benchmarks/bench_terminal_files.py"
    spec = importlib.util.spec_from_file_location("bench_terminal_files", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_terminal_files"] = module
    spec.loader.exec_module(module)
    return module


def test_a_big_folder_is_listed_with_work_linear_in_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Path comparisons counted: a list lookup per file made 20,000 files take 38 s."""
    n = 2_000
    _bench().make_folder(tmp_path, n)
    compared = 0
    equal = PurePath.__eq__

    def counting(self: PurePath, other: object) -> bool:
        nonlocal compared
        compared += 1
        return equal(self, other)

    monkeypatch.setattr(PurePath, "__eq__", counting)
    found = files.find(str(tmp_path), max_files=50, max_bytes=1 << 20)
    monkeypatch.undo()
    assert found is not None and len(found.files) == n // 2 and len(found.skipped) == n // 2
    assert compared <= n, f"{compared:,} path comparisons for {n:,} files"


def test_the_folder_benchmark_short_mode_prints_its_figure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _bench().main(["--short"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("listed a folder of 2,000 files in ")
    seconds = float(out.split(" in ")[1].split(" s")[0])
    assert seconds < 20  # sanity only (before: about 0.4 s for 2,000, 38 s for 20,000)


def test_the_studios_own_line_breaks_stay_line_breaks() -> None:
    """A multi-line answer (/help) prints as lines: only names' controls are escaped."""
    screen = io.StringIO()
    term = Terminal(Path("/nonexistent-out"), WHO, stream=screen)
    term.render([Reply("In this terminal:\na number – press the button\tshown")])
    term._print(TERMINAL_HELP)  # what the chat loop says after /help
    shown = screen.getvalue()
    assert "\\x0a" not in shown and "In this terminal:\na number" in shown
    assert TERMINAL_HELP in shown
