"""A personal model in the terminal studio, fast: lines typed into the terminal adapter
(bot/terminal/app.py: paths, numbers, commands) and its screen, the real Studio over a
SQLite file, the in-memory engine answering the train job. The offer, consent, the
progress line with its Stop button (tagged, as background messages are), learned, used,
switched off with /personal off, and /forget."""

from __future__ import annotations

import io
import re
from pathlib import Path

from fake_engine import FakeEngine
from studio_harness import until
from test_personal_flow import MIN, WIZARD, photos

from bot.studio.core.core import Studio
from bot.studio.core.events import Event, Who
from bot.studio.personal import words_personal as wpm
from bot.terminal.app import Terminal, TerminalOutbox
from sitter import contract as c

WHO = Who("terminal", "t", "terminal:t", "t")


class Screen:
    def __init__(self, studio: Studio, tmp_path: Path) -> None:
        self.out = io.StringIO()
        self.term = Terminal(tmp_path / "out", WHO, stream=self.out)
        self.studio = studio
        studio.add_outbox("terminal", TerminalOutbox(self.term))

    async def type(self, line: str) -> str:
        """Type a line; what the screen shows after it."""
        mark = len(self.out.getvalue())
        event = self.term.parse(line)
        assert isinstance(event, Event.__args__), event  # type: ignore[attr-defined]
        self.term.render(await self.studio.handle(event))
        return self.out.getvalue()[mark:]

    def number(self, label: str) -> str:
        found = re.findall(r"\[([a-z]*\d+)\] " + re.escape(label), self.out.getvalue())
        assert found, f"no button {label!r} on screen:\n{self.out.getvalue()[-2000:]}"
        return found[-1]

    async def press(self, label: str) -> str:
        return await self.type(self.number(label))


async def test_personal_model_in_the_terminal(
    fake_studio: Studio, fake_engine: FakeEngine, tmp_path: Path
) -> None:
    studio, fake = fake_studio, fake_engine
    studio.settings = studio.settings.model_copy(
        update={"train_min_photos": MIN, "daily_quota": 100, "min_photos": 4}
    )
    folder = tmp_path / "me"
    folder.mkdir()
    files = photos(MIN)
    fake.show(files, "t")
    for f in files:
        (folder / f.filename).write_bytes(f.data or b"")
    screen = Screen(studio, tmp_path)
    await screen.type("/start")
    await screen.press("I agree")
    await screen.type(str(folder))
    shown = await screen.press("Done")
    assert "/train tells you more" in shown
    offer = await screen.press(wpm.OFFER_BUTTON)
    assert "never for anyone else" in offer and "/forget" in offer

    fake.delay[c.JOB_TRAIN] = 30.0
    await screen.press(wpm.AGREE_BUTTON)
    await until(studio, lambda: "Learning your personal model" in screen.out.getvalue(), 10)
    assert re.search(r"» ✎ Learning your personal model: \S+ \d+% · .* left", screen.out.getvalue())
    stopped = await screen.type(screen.number("✕ Stop training"))  # a tagged button (a1...)
    assert wpm.STOPPED in stopped

    fake.delay[c.JOB_TRAIN] = 0.0
    await screen.type("/train")
    await screen.press(wpm.AGREE_BUTTON)
    await until(studio, lambda: "personal model is ready" in screen.out.getvalue(), 10)
    await screen.type("/new")
    for label in WIZARD:
        shown = await screen.press(label)
    assert wpm.SUMMARY_LINE in shown
    await screen.press("✓ Queue it")
    await until(studio, lambda: wpm.RESULTS_LINE in screen.out.getvalue(), 10, "results")

    assert wpm.switched(False) in await screen.type("/personal off")
    assert wpm.switched(True) in await screen.type("/personal on")
    row = await studio.store.latest_personal(1)
    path = studio.store.media.path(row["path"])
    await screen.type("/forget")
    assert "Done. I deleted" in await screen.press("Yes, delete everything")
    assert not path.exists() and await studio.store.latest_personal(1) is None
