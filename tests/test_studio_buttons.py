"""Button data: short enough for Telegram (64 bytes), and read back exactly."""

from __future__ import annotations

import pytest

from bot.studio.core import buttons as b
from bot.studio.portrait.buttons import FollowUpPress
from sitter.prompts import PromptLibrary


def test_round_trip_and_size() -> None:
    big = 2**53
    samples = [
        b.wizard(big, "style", "9"),
        b.wizard(1, "agree"),
        *(b.item(k, big) for k in "rqulf"),
        b.report(big),
    ]
    assert all(len(s.encode()) <= b.MAX_BYTES for s in samples)
    assert b.parse(b.wizard(7, "preset", "3")) == b.WizardPress(7, "preset", "3")
    assert b.parse(b.item("u", 12)) == FollowUpPress("u", 12)
    assert b.parse("rep:5") == b.ReportPress(5)
    assert b.parse("mod:ban:3") == b.UnreadModerationPress("mod")


@pytest.mark.parametrize("data", ["", "w", "w:x:go", "w:1:", "u:abc", "z:1", "u:1:2", "x" * 65])
def test_garbage_is_not_a_button(data: str) -> None:
    assert b.parse(data) is None


def test_every_style_button_fits() -> None:
    lib = PromptLibrary.load()
    for i, _ in enumerate(sorted(lib.styles)):
        assert len(b.wizard(10**9, "style", str(i)).encode()) <= b.MAX_BYTES
    with pytest.raises(ValueError):
        b.wizard(1, "preset", "x" * 80)
