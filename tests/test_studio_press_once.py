"""One press is read once (issue 20): the "Upscale 2" button's data is parsed once,
consent is read once and the portrait's follow-up row once, on the real store."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from moderation_helpers import seed_person

from bot.studio.core import buttons as grammar
from bot.studio.core import words
from bot.studio.core.core import Studio
from bot.studio.core.events import Press, Who
from bot.studio.portrait import buttons as pb


def _count(obj: Any, names: tuple[str, ...], seen: Counter[str], mp: pytest.MonkeyPatch) -> None:
    for name in names:
        real = getattr(obj, name)

        def counted(*a: Any, _real: Any = real, _name: str = name, **k: Any) -> Any:
            seen[_name] += 1
            return _real(*a, **k)

        mp.setattr(obj, name, counted)


async def test_upscale_2_parses_once_reads_consent_and_its_row_once(
    fake_studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio = fake_studio
    ann = await seed_person(studio.store, "terminal", "ann")
    await studio.store.record_consent(ann["user_id"], words.CONSENT_VERSION, words.CONSENT_TEXT)
    who = Who("terminal", "ann", "ann-chat", "Ann")
    data = pb.follow_up("u", ann["variations"][1])
    seen: Counter[str] = Counter()
    _count(grammar.GRAMMAR, ("parse",), seen, monkeypatch)
    _count(
        studio.store,
        ("consent", "variation", "variation_job", "variation_job_by_id"),
        seen,
        monkeypatch,
    )
    [queued] = await studio.handle(Press(who, data))
    assert "Upscaling #2" in queued.text
    assert seen["parse"] == 1, seen
    assert seen["consent"] == 1, seen
    assert seen["variation"] == 1, seen
    assert seen["variation_job"] + seen["variation_job_by_id"] == 1, seen


async def test_a_report_press_is_read_once_and_handed_to_moderation_as_read(
    fake_studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The moderation codec reads ``rep:<variation>`` into its typed press; the core hands
    that press to the plugin, which does not read the data again."""
    studio = fake_studio
    ann = await seed_person(studio.store, "terminal", "ann")
    bob = await seed_person(studio.store, "terminal", "bob")
    await studio.store.record_consent(bob["user_id"], words.CONSENT_VERSION, words.CONSENT_TEXT)
    who = Who("terminal", "bob", "bob-chat", "Bob")
    seen: Counter[str] = Counter()
    _count(grammar.GRAMMAR, ("parse",), seen, monkeypatch)
    _count(grammar, ("_moderation",), seen, monkeypatch)
    [asked] = await studio.handle(Press(who, grammar.report(ann["variations"][1])))
    assert "Why are you reporting" in asked.text and asked.buttons, asked
    assert seen["parse"] == 1 and seen["_moderation"] == 1, seen
