"""Bad input at every step gets a clear answer, and the session stays usable.

About the conversation, not the engine: on the in-memory engine (tests/fake_engine.py),
whose photo checks decode with the engine's real intake."""

from __future__ import annotations

import re

import pytest
from fake_engine import FakeEngine
from studio_harness import (
    Chat,
    astronaut_set,
)

from bot.studio.core.core import Studio, clean_text
from bot.studio.core.events import IncomingFile, Press, Who
from sitter import contract as c

WHO = Who("terminal", "eve", "eve-chat", "Eve")


@pytest.fixture
def studio(fake_studio: Studio) -> Studio:
    return fake_studio


def _rev(data: str) -> int:
    return int(data.split(":")[1])


async def test_bad_input_at_every_step(studio: Studio) -> None:
    chat = Chat(studio, WHO)
    # Unknown command, before anything: named, and the known ones listed.
    replies = await chat.send("/frobnicate")
    assert replies[-1].buttons[0][0].label == "I agree"  # consent comes first
    await chat.send("/start")
    await chat.press("I agree")

    [r] = await chat.send("/frobnicate")
    assert "I don't know the command /frobnicate" in r.text and "/help" in r.text

    # Files the adapter could not fetch, empty files and non-images: each named.
    bad = [
        IncomingFile("huge.jpg", None, 60_000_000, error="over Telegram's 20 MB download limit"),
        IncomingFile("empty.jpg", b"", 0),
        IncomingFile("notes.txt", b"just some text, not a picture", 29),
    ]
    [r] = await chat.files(bad)
    assert "huge.jpg: ✗ I could not get this file: over Telegram's 20 MB" in r.text
    assert "empty.jpg: ✗ the file is empty" in r.text
    assert "notes.txt: ✗ I can't read this file as a picture" in r.text  # engine/intake.py
    assert "0 good photos so far; I need 4" in r.text

    # Done too early (typed) is refused with the count.
    [r] = await chat.send("done")
    assert "I need at least 4 good photos; I have 0" in r.text

    await chat.files(astronaut_set())
    await chat.press("Done")
    style_msg = chat.last[-1]

    # Style: a typed style that isn't offered, then 10,000 characters.
    [r, again] = await chat.send("vaporwave anime")
    assert "I don't know the style “vaporwave anime”" in r.text and "Watercolor" in r.text
    [r, again] = await chat.send("x" * 10_000)
    assert "That's 10,000 characters; please keep it under 200" in r.text
    assert "choose a style" in again.text

    # A typed style name works too (any case).
    await chat.send("  OIL painting ")
    assert "What should you wear" in chat.text()
    attire_msg = chat.last[-1]

    # The style button pressed again (a second press / an old message) is stale.
    replies = await chat.press("Watercolor", [style_msg])
    assert "earlier message" in replies[0].text and "What should you wear" in replies[-1].text

    # A choice outside the presets (forged data with the current rev).
    rev = _rev(chat.button("Business suit", [attire_msg]))
    [r, again] = await chat.send(Press(WHO, f"w:{rev}:preset:99"))
    assert "isn't on the list" in r.text and "What should you wear" in again.text
    # Garbage button data.
    replies = await chat.send(Press(WHO, "w:notanumber:go"))
    assert "doesn't work any more" in replies[0].text

    # Empty text and invisible characters only.
    [r, _] = await chat.send("\u200f\u202e  \u2066")
    assert "That message was empty" in r.text

    # Emoji and right-to-left text are kept; bidi overrides are dropped.
    await chat.send("\u202eשמלה אדומה 👗")
    assert "Where are you" in chat.text()

    # Back goes one step back and keeps the answer; cancel at any step.
    await chat.press("◀ Back")
    assert "What should you wear" in chat.text()
    await chat.press("Smart casual")
    await chat.press("Office")
    await chat.press("Neon")
    await chat.press("Half body")
    await chat.press("Skip")
    await chat.press("Square 1:1 (avatars)")
    assert "Attire: Smart casual" in chat.text()  # the preset's label: what they chose
    # A confirm step answers text with a hint, not an order.
    [r, _] = await chat.send("yes please")
    assert "Press “Queue it”" in r.text
    await chat.press("◀ Back")
    assert "Which format" in chat.text()
    await chat.press("✕ Cancel")
    assert "Cancelled. Your photos are kept; nothing was queued." in chat.text()
    user = await studio.store.user("terminal", "eve")
    assert await studio.store.last_order(user["id"]) is None

    # After cancelling, /new starts at the style with the same photos.
    await chat.send("/new")
    assert "choose a style" in chat.text()
    [r] = await chat.send("/status")
    assert "No orders yet" in r.text and "style" in r.text


async def test_safety_screen_refuses_typed_answers(studio: Studio) -> None:
    """The moderation engineer's prompt screen (bot/studio/safety/screen.py) is applied (it
    always ships: the core imports it, no probe)."""
    chat = Chat(studio, WHO)
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(astronaut_set())
    await chat.press("Done")
    await chat.press("Watercolor")
    [r, again] = await chat.send("n u d e")
    assert "I can't use" in r.text and "What should you wear" in again.text
    await chat.press("Knitwear")
    assert "Where are you" in chat.text()


def test_clean_text_keeps_emoji_and_rtl() -> None:
    assert clean_text("  a\u200b b\n\tc 👋 مرحبا \u202e") == "a b c 👋 مرحبا"
    assert re.fullmatch(r"\S+", clean_text("\u00adx"))


async def _to_confirm(chat: Chat, attire: str, described: str) -> None:
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(astronaut_set())
    await chat.press("Done")
    await chat.press("Watercolor")
    await chat.send(attire)
    assert "Where are you" in chat.text(), chat.text()
    await chat.press("Office")
    await chat.press("Neon")
    await chat.press("Half body")
    await chat.send(described)
    await chat.press("Square 1:1 (avatars)")


async def test_the_whole_order_is_judged_at_queue_it(studio: Studio) -> None:
    """Issue 22: an age or school year in one answer and something revealing in another
    each pass alone; the order is refused at "Queue it" and nothing is queued."""
    chat = Chat(studio, WHO)
    await _to_confirm(chat, "a bikini", "a high school senior")
    await chat.press("✓ Queue it")
    said = chat.text()
    assert "I can't use “high school senior” together with “bikini” in your order." in said
    assert "adults only" in said
    user = await studio.store.user("terminal", "eve")
    assert await studio.store.last_order(user["id"]) is None


async def test_the_issue_order_is_never_queued(studio: Studio) -> None:
    """describe-me "a high school freshman" and attire "shirtless, in a bra and thong"."""
    chat = Chat(studio, WHO)
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(astronaut_set())
    await chat.press("Done")
    await chat.press("Watercolor")
    [r, again] = await chat.send("shirtless, in a bra and thong")
    assert "I can't use “shirtless”" in r.text and "What should you wear" in again.text
    user = await studio.store.user("terminal", "eve")
    assert await studio.store.last_order(user["id"]) is None


async def test_the_engines_semantic_refusal_is_worded_by_its_category(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """A paraphrase no list holds, refused by the engine's screen_text job (here the fake's
    rule: the real model is tests/test_text_screen.py): the category's own reason."""
    fake_engine.screen_refusals = {"wearing absolutely nothing": "sexual"}
    chat = Chat(studio, WHO)
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(astronaut_set())
    await chat.press("Done")
    await chat.press("Watercolor")
    [r, again] = await chat.send("Wearing absolutely nothing")
    assert r.text.startswith("I can't use “wearing absolutely nothing”. Sitter does not make")
    assert "What should you wear" in again.text
    # The engine unreachable: the word lists alone (the GPU worker checks again).
    fake_engine.alive[c.QUEUE_FAST] = False
    await chat.send("Wearing absolutely nothing")
    assert "Where are you" in chat.text()


async def test_a_strip_longer_than_any_side_is_refused_before_the_engine(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """Issue 22, item 8: a 1 x 64,000,000 PNG is refused by the bot from its header, in
    words, before it is stored or sent to the engine (which refuses it too)."""
    from test_intake_decode import _strip_png

    chat = Chat(studio, WHO)
    await chat.send("/start")
    await chat.press("I agree")
    [reply] = await chat.files([IncomingFile("strip.png", _strip_png(1, 64_000_000))])
    assert (
        "strip.png: ✗ it is 1×64000000 pixels; I take pictures up to 65,536 pixels on a side."
        in reply.text
    ), reply.text
    assert [j.name for j in fake_engine.jobs.values()] == []  # the engine never saw it
