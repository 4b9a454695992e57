"""Issue 11, part B: what a newcomer found trying `sitter chat` / `sitter run`.

Real files and folders, a real SQLite studio on a real Redis, real `sitter` processes.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from moderation_helpers import seed_person
from studio_harness import ROOT, astronaut_set, engine_env

from bot.studio.core.events import Button, Files, Press, Reply, Text, Who
from bot.terminal import files
from bot.terminal.app import TERMINAL_HELP, Terminal, spoken

pytestmark = pytest.mark.studio_db  # redis_url: the studio tests' own db

WHO = Who("terminal", "t", "t")
STYLES = [
    "Black and white", "Cinematic", "Editorial fashion", "Fantasy", "Oil painting",
    "Pencil sketch", "Pop art", "Professional headshot", "Vintage film", "Watercolor",
]  # fmt: skip


def _step_one() -> Reply:
    rows = [
        tuple(Button(n, f"w:1:style:{i + k}") for k, n in enumerate(STYLES[i : i + 2]))
        for i in range(0, len(STYLES), 2)
    ]
    nav = (Button("◀ Back", "w:1:back"), Button("✕ Cancel", "w:1:cancel"))
    return Reply("Step 1 of 5 – choose a style:", buttons=(*rows, nav))


def _results() -> Reply:
    ups = tuple(Button(f"Upscale {i}", f"u:{i}") for i in range(1, 5))
    reps = tuple(Button(f"Report {i}", f"rep:{i}") for i in range(1, 5))
    return Reply("Order #1 – your 4 portraits.", buttons=((Button("↻ Retry", "o:r"),), ups, reps))


def _number(screen: str, label: str) -> str:
    """The number last printed for a button with this label."""
    found = re.findall(r"\[([a-z]*\d+)\] " + re.escape(label), screen)
    assert found, f"no button {label!r} in:\n{screen}"
    return found[-1]


def test_background_results_do_not_renumber_the_step_on_screen(tmp_path: Path) -> None:
    """At Step 1 results arrive: `10` is still Watercolor, not someone's Report button."""
    screen = io.StringIO()
    term = Terminal(tmp_path / "out", WHO, stream=screen)
    term.render([_step_one()])
    term.at_prompt = True  # the person is typing
    term.render([_results()], prefix="» ", background=True)
    assert term.parse("10") == Press(WHO, "w:1:style:9")  # Watercolor, as printed
    text = screen.getvalue()
    assert _number(text, "Watercolor") == "10" and _number(text, "Upscale 1") == "a2"
    assert term.parse(_number(text, "Report 1")) == Press(WHO, "rep:1")
    assert "\n» Order #1" in text and text.endswith("> ")  # off the prompt line, prompt again
    # The next answer numbers from 1; the results' tagged buttons above it still hold (a
    # newcomer pressed 3 for "Upscale 1" and filed a report: the reasons had taken it).
    term.render([Reply("Attire?", buttons=tuple((Button(f"a{i}", f"w:2:{i}"),) for i in range(6)))])
    assert term.parse("1") == Press(WHO, "w:2:0")
    assert term.parse("a2") == Press(WHO, "u:1") and term.parse("A2") == Press(WHO, "u:1")
    assert term.parse("9") == "There is no choice 9 on screen; choose 1–6."
    assert term.parse("a13") == "Message a has no button a13; choose a1–a9."


def test_an_answer_never_takes_the_numbers_of_results_on_screen(tmp_path: Path) -> None:
    term = Terminal(tmp_path / "out", WHO, stream=io.StringIO())
    term.render([Reply("What next?", buttons=((Button("New portrait", "w:1:new"),),))])
    term.render([_results()], background=True)  # results: a1 (Retry) .. a9
    reasons = tuple((Button(f"reason {i}", f"rep:1:{i}"),) for i in range(5))
    term.render([Reply("Why do you report portrait #1?", buttons=reasons)])  # after Report 1
    assert term.parse("a2") == Press(WHO, "u:1")  # still Upscale 1, as printed
    assert term.parse("1") == Press(WHO, "rep:1:0")


def test_a_small_number_at_a_new_step_never_presses_an_old_result(tmp_path: Path) -> None:
    """Issue 22 item 13: with results of two orders above, `10` at a new style step pressed
    portrait #4's button of order #1 and `2` re-ran order #1 (spending quota). A plain
    number means the step on screen; an old message's buttons carry its own letter."""
    screen = io.StringIO()
    term = Terminal(tmp_path / "out", WHO, stream=screen)
    term.render([_results()], prefix="» ", background=True)
    term.render([_results()], prefix="» ", background=True)  # a second order's results
    term.render([_step_one()])  # "New portrait": Step 1 again
    text = screen.getvalue()
    assert _number(text, "Watercolor") == "10" and _number(text, "Black and white") == "1"
    assert term.parse("10") == Press(WHO, "w:1:style:9")
    assert term.parse("2") == Press(WHO, "w:1:style:1")  # Cinematic, not ↻ Retry
    assert term.parse("b1") == Press(WHO, "o:r")  # the second results' Retry, on purpose
    assert "[a1] ↻ Retry" in text and "[b1] ↻ Retry" in text
    # A progress message updated in place keeps its letter; one updated without buttons
    # loses them; only the last messages keep their buttons.
    cancel = Reply("Order #3: 20%", buttons=((Button("Cancel order", "o:c:3"),),), edit_key="p3")
    term.render([cancel], background=True)
    term.render([Reply("Order #3: 60%", buttons=cancel.buttons, edit_key="p3")], background=True)
    assert _number(screen.getvalue(), "Cancel order") == "c1"
    term.render([Reply("Order #3 is ready ↓", edit_key="p3")], background=True)
    assert term.parse("c1") == "Message c has no buttons now (it was updated below)."
    for i in range(26):
        term.render([Reply(f"note {i}", buttons=((Button("Show", f"s:{i}"),),))], background=True)
    assert "too far up" in str(term.parse("a1"))
    assert term.parse("ac1") == Press(WHO, "s:25")  # after z comes aa
    # With no step on screen, a plain number is pointed at the latest message's letter.
    fresh = Terminal(tmp_path / "out2", WHO, stream=io.StringIO())
    fresh.render([_results()], background=True)
    assert fresh.parse("2") == "A message's buttons carry its letter: type a2 for [a2]."


def test_a_long_line_or_a_slip_of_a_number_is_answered_not_a_crash(tmp_path: Path) -> None:
    term = Terminal(tmp_path / "out", WHO, stream=io.StringIO())
    own = Button("Type my own", "w:2:own", "free_text")
    presets = tuple((Button(f"p{i}", f"w:2:p{i}"),) for i in range(9))
    term.render([Reply("What should you wear?", buttons=(*presets, (own,)))])
    long = ("a very close crop of the face " * 12).strip()  # 359 characters: no file name
    assert term.parse(long) == Text(WHO, long)
    assert term.parse("a" * 256) == Text(WHO, "a" * 256)
    assert term.parse("12").startswith("There is no choice 12 on screen")  # a slip, not words
    assert term.parse("1984") == Text(WHO, "1984")  # clearly words


def test_choices_are_spoken_as_people_write_them() -> None:
    assert spoken([1, 2]) == "1 or 2"
    assert spoken([1, 2, 3, 4, 5, 6]) == "1–6"
    assert spoken([3]) == "3"
    assert spoken([1, 2, 3, 7, 8]) == "1–3, 7 or 8"


def test_a_number_at_a_step_that_takes_words_is_words(tmp_path: Path) -> None:
    term = Terminal(tmp_path / "out", WHO, stream=io.StringIO())
    own = Button("Type my own", "w:2:own", "free_text")
    term.render([Reply("What should you wear?", buttons=((Button("Suit", "w:2:p0"), own),))])
    assert term.parse("1984") == Text(WHO, "1984")
    assert term.parse("1") == Press(WHO, "w:2:p0")


def test_an_edit_printed_after_what_it_points_at_points_up(tmp_path: Path) -> None:
    screen = io.StringIO()
    term = Terminal(tmp_path / "out", WHO, stream=screen)
    term.render([Reply("Order #1 is ready ↓", edit_key="order-1")], background=True)
    assert "Order #1 is ready ↑" in screen.getvalue() and "↓" not in screen.getvalue()


async def test_add_details_sends_the_press_then_the_typed_words(
    data_dir: Path, redis_url: str, queue_prefix: str
) -> None:
    """ "Add details" answered "I'm not asking anything right now" and the report kept no
    words: the terminal swallowed the press. Now the core gets it, then the words."""
    from bot.studio.core import words as w
    from bot.studio.core.core import Studio
    from sitter.config import load_settings

    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    studio = await Studio.open(settings)
    screen = io.StringIO()
    term = Terminal(data_dir / "out", Who("terminal", "ann", "terminal:ann", "Ann"), screen)
    try:
        ann = await seed_person(studio.store, "terminal", "ann", chat="terminal:ann")
        await studio.store.record_consent(ann["user_id"], w.CONSENT_VERSION, w.CONSENT_TEXT)

        async def say(line: str) -> None:
            event = term.parse(line)
            assert not isinstance(event, str | None), event
            term.render(await studio.handle(event))

        await say(f"/report {ann['variations'][0]}")
        await say(_number(screen.getvalue(), "It's me and I did not consent"))
        # No moderators are set up in the terminal: it must not say they have it (issue 22).
        assert "is with the moderators" not in screen.getvalue()
        assert "this studio has no moderators set up yet" in screen.getvalue()
        await say(_number(screen.getvalue(), "Add details"))
        assert "Type the details for report" in screen.getvalue()
        await say("1984: it is my wedding photo")  # a number first: still the words
        assert "Added to report" in screen.getvalue(), screen.getvalue()
        assert "not asking anything" not in screen.getvalue()
        [report] = await studio.store.all("SELECT text FROM reports")
        assert report["text"] == "1984: it is my wedding photo"
    finally:
        await studio.aclose()


# --- paths --------------------------------------------------------------------------------------
def _photo(path: Path, i: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(astronaut_set()[i].data or b"")
    return path


def test_paths_as_people_type_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    term = Terminal(tmp_path / "out", WHO, stream=io.StringIO())
    spaced = _photo(tmp_path / "My Photos" / "me at home.jpg")
    homed = _photo(tmp_path / "home" / "pics" / "me.png", 1)

    def sent(line: str) -> list[str]:
        event = term.parse(line)
        assert isinstance(event, Files), event
        return [f.filename for f in event.files]

    for missing in ("/tmp/nope-7f3e.jpg", "~/nope.jpg", "./nope.png", "file:///nope/x.jpg"):
        said = term.parse(missing)
        assert isinstance(said, str) and said.startswith("Not found:"), (missing, said)
    assert sent(str(spaced)) == ["me at home.jpg"]  # unquoted, with spaces
    assert sent(f"'{spaced}'") == ["me at home.jpg"]
    assert sent("~/pics/me.png") == ["me.png"]
    assert sent(homed.as_uri()) == ["me.png"]  # file:///.../me.png
    assert sent(spaced.as_uri()) == ["me at home.jpg"]  # file:// with %20
    assert sent(f"{tmp_path}/My*/*.jpg") == ["me at home.jpg"]  # a glob
    assert "Not found" in str(term.parse(f"{tmp_path}/*.webp"))  # a glob matching nothing
    # Words that are answers stay answers, even when a folder here has that name.
    (tmp_path / "Library").mkdir()
    assert term.parse("Library") == Text(WHO, "Library")
    assert term.parse("jeans/t-shirt") == Text(WHO, "jeans/t-shirt")
    assert term.parse("what?") == Text(WHO, "what?")
    assert sent("My\\ Photos") == ["me at home.jpg"]  # a bare folder of photos is a folder


def test_folders_take_what_the_engine_takes_and_names_tell_files_apart(tmp_path: Path) -> None:
    from PIL import Image

    from engine.intake import ACCEPTED_FORMATS

    folder = tmp_path / "set"
    folder.mkdir()
    Image.new("RGB", (300, 300), "tan").save(folder / "scan.tif")
    (folder / "phone.AVIF").write_bytes(b"....ftypavif")
    (folder / "notes.txt").write_text("not a photo")
    _photo(folder / "a.jpg")
    screen = io.StringIO()
    term = Terminal(tmp_path / "out", WHO, stream=screen)
    event = term.parse(str(folder))
    assert isinstance(event, Files)
    assert [f.filename for f in event.files] == ["a.jpg", "phone.AVIF", "scan.tif"]
    assert "(Left out 1 file that isn't a photo: notes.txt.)" in screen.getvalue()
    # Every suffix Pillow gives a format the intake accepts is a photo here.
    Image.init()
    for suffix, fmt in Image.registered_extensions().items():
        if fmt in ACCEPTED_FORMATS:
            assert suffix in files.IMAGE_SUFFIXES, (suffix, fmt)
    # Three 1.jpg from different folders are named so a person can tell them apart.
    people = [_photo(tmp_path / "faces" / who / "1.jpg") for who in ("obama", "biden", "kit")]
    event = term.parse(" ".join(map(str, people)))
    assert isinstance(event, Files)
    assert [f.filename for f in event.files] == ["obama/1.jpg", "biden/1.jpg", "kit/1.jpg"]
    deeper = [Path("/a/faces/x/1.jpg"), Path("/b/faces/x/1.jpg"), Path("/b/faces/y/2.jpg")]
    assert files.distinct_names(deeper) == ["a/faces/x/1.jpg", "b/faces/x/1.jpg", "2.jpg"]
    assert files.distinct_names([Path("/a/1.jpg")] * 2) == ["/a/1.jpg", "/a/1.jpg"]


# --- the process: /help, Ctrl-C ------------------------------------------------------------------
@pytest.mark.parametrize("command", ["chat", "run"])
def test_ctrl_c_stops_at_once_and_help_lists_what_works_here(
    command: str, redis_url: str, queue_prefix: str, data_dir: Path
) -> None:
    """Ctrl-C printed "stopped" and then waited for Enter (a thread blocked in readline)."""
    env = engine_env(redis_url, queue_prefix, data_dir)
    for token in ("SITTER_TELEGRAM_TOKEN", "SITTER_DISCORD_TOKEN"):
        env.pop(token, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", command, "--no-worker"],
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("/help\n")
        proc.stdin.flush()
        seen = ""
        end = time.monotonic() + 60
        while "(or Ctrl-D)" not in seen and time.monotonic() < end:
            seen += proc.stdout.readline()
        for needed in ("/done", "/protect", "/unprotect", "/quit", "a number"):
            assert needed in seen, seen
        os.kill(proc.pid, signal.SIGINT)  # stdin stays open: nobody presses Enter
        # It used to wait for Enter for ever; a busy machine may take a while to stop.
        assert proc.wait(90) == 0
        rest = proc.stdout.read()
        assert "stopped" in rest and "Bye" in rest and "Traceback" not in seen + rest
        # The goodbye names a command that continues with these models (issue 22 item 20).
        assert f"SITTER_MODEL={env['SITTER_MODEL']} SITTER_FACE_BACKEND=dlib" in rest, rest
    finally:
        proc.kill()
        proc.wait()
    assert TERMINAL_HELP.splitlines()[0] in seen


def test_files_and_devices_are_read_directly(tmp_path: Path) -> None:
    """The line reader: a file and /dev/null are read without the loop's watcher."""
    from bot.terminal.lines import LineReader

    script = tmp_path / "script.txt"
    script.write_text("1\n/quit\n")

    async def lines(reader: LineReader, n: int) -> list[str]:
        return [await asyncio.wait_for(reader.readline(), 5) for _ in range(n)]

    with script.open() as fh:
        assert asyncio.run(lines(LineReader(fh), 3)) == ["1\n", "/quit\n", ""]
    with Path(os.devnull).open() as fh:
        assert asyncio.run(lines(LineReader(fh), 1)) == [""]


def test_names_never_clash_across_messages(tmp_path: Path) -> None:
    """Issue 22 item 23: Obama's 1.jpg in one message and Biden's in the next were both
    "1.jpg" in the verdicts."""
    term = Terminal(tmp_path / "out", WHO, stream=io.StringIO())
    obama, biden = (_photo(tmp_path / "faces" / who / "1.jpg") for who in ("obama", "biden"))
    first = term.parse(str(obama))
    second = term.parse(str(biden))
    assert isinstance(first, Files) and isinstance(second, Files)
    assert [f.filename for f in first.files] == ["1.jpg"]
    assert [f.filename for f in second.files] == ["biden/1.jpg"]
    again = term.parse(str(obama))  # now told apart from Biden's too
    assert isinstance(again, Files) and [f.filename for f in again.files] == ["obama/1.jpg"]
