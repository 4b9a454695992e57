"""Ids in button data are range-checked where buttons are read (bot/studio/core/buttons.py):
a 20-digit id (or any id past SQLite's signed 64-bit range) is answered as a stale
button in every family, through the real studio, and never reaches a query (where
SQLite raised OverflowError and the person got "something went wrong")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from moderation_helpers import seed_person
from studio_harness import RecordingOutbox

from bot.studio.core import buttons as b
from bot.studio.core.core import Studio
from bot.studio.core.events import Press, Who
from bot.studio.history.buttons import HistoryPress, history
from bot.studio.moderation import Place
from bot.studio.portrait.buttons import FollowUpPress
from bot.studio.rights.buttons import ForgetPress
from sitter.config import load_settings

BIG = "9" * 20  # > 2**64
JUST_OVER = str(2**63)  # 19 digits, one past SQLite's INTEGER
BOB = Who("terminal", "bob", "bob-chat", "Bob")  # new here: no session yet
MIA = Who("terminal", "mia", "mods", "Mia", private=False, is_moderator=True)

FAMILIES = [
    "w:{n}:go",
    "w:{n}:preset:1",
    "r:{n}",
    "q:{n}",
    "u:{n}",
    "l:{n}",
    "f:{n}",
    "h:{n}",
    "hp:{n}",
    "rep:{n}",
    "rep:{n}:me",
    "rep:n:{n}",
    "mod:{n}:dis",
    "mod:{n}:ban",
    "mod:{n}:unban",
    "mod:{n}:show",
]


@pytest.fixture
async def studio(redis_url: str, queue_prefix: str, data_dir: Path) -> AsyncIterator[Studio]:
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    s = await Studio.open(settings)
    s.add_outbox("terminal", RecordingOutbox())
    assert s.moderation is not None
    s.moderation.add_place("terminal", Place(chats=("mods",)))
    yield s
    await s.aclose()


@pytest.mark.parametrize("n", [BIG, JUST_OVER, "0", "-1", "+7", "١٢"])
@pytest.mark.parametrize("family", FAMILIES)
def test_out_of_range_ids_are_not_read(family: str, n: str) -> None:
    data = family.format(n=n)
    parsed = b.parse(data)
    if data.startswith(b.MODERATION_PREFIXES):
        assert parsed == b.UnreadModerationPress(data[:3]), data  # moderation answers it
    elif n == "0" and family.startswith(("w:", "f:")):  # a rev may be 0; ids start at 1
        assert parsed is not None
    else:
        assert parsed is None, data


def test_the_largest_id_is_read_and_built() -> None:
    top = 2**63 - 1
    assert b.parse(b.item("u", top)) == FollowUpPress("u", top)
    assert b.parse(history("hp", top)) == HistoryPress("hp", top)
    assert b.parse(history("h", 1)) == HistoryPress("h", 1)
    assert b.parse(b.report(top, "me")) == b.ReportPress(top, "me")
    assert b.parse(b.report_note(top)) == b.NotePress(top)
    assert b.parse(b.moderator(top, "pur")) == b.ModeratorPress(top, "pur")
    for build in (
        lambda: b.item("u", top + 1),
        lambda: b.report(0),
        lambda: b.moderator(1, "x"),
        lambda: history("h", 0),
        lambda: history("x", 1),
    ):
        with pytest.raises(ValueError):
            build()


def test_old_buttons_still_read() -> None:
    """Data already on messages in chats keeps its meaning."""
    assert b.parse("w:3:preset:2") == b.WizardPress(3, "preset", "2")
    assert b.parse("f:4") == ForgetPress("f", 4)
    assert b.parse("rep:12") == b.ReportPress(12)
    assert b.parse("rep:12:sex") == b.ReportPress(12, "sex")
    assert b.parse("rep:n:3") == b.NotePress(3)
    assert b.parse("mod:3:unban") == b.ModeratorPress(3, "unban")
    assert b.is_report("rep:12") and not b.is_report("rep:12:me") and not b.is_report("u:12")


@pytest.mark.parametrize("n", [BIG, JUST_OVER])
async def test_every_family_answers_a_huge_id_as_stale(studio: Studio, n: str) -> None:
    ann = await seed_person(studio.store, "terminal", "ann")
    assert ann["variations"]
    for family in FAMILIES:
        data = family.format(n=n)
        who = MIA if data.startswith("mod:") else BOB
        replies = await studio.handle(Press(who, data))
        text = " ".join(r.text for r in replies)
        assert "went wrong" not in text, (data, text)
        assert "doesn't work any more" in text or "earlier message" in text, (data, text)
    # Nothing was reported or decided, and the studio still answers normally.
    assert await studio.store.all("SELECT id FROM reports") == []
    [ok] = await studio.handle(Press(BOB, b.report(ann["variations"][0], "me")))
    assert ok.text.startswith("Thank you. Your report #1")
