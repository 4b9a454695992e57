"""/portraits (issue 15): the person's orders still within retention, newest first, a
page at a time, each resent with working buttons, after a restart of the studio;
never another person's orders; expired and forgotten ones explained."""

from __future__ import annotations

from pathlib import Path

from fake_engine import FakeEngine
from studio_harness import Chat, RecordingOutbox, astronaut_set, until

from bot.studio.core.core import Studio
from bot.studio.core.events import Press, Reply, Who
from bot.studio.history.portraits import PAGE
from sitter.config import load_settings

LENA = Who("terminal", "lena", "lena-chat", "Lena")
BOB = Who("terminal", "bob", "bob-chat", "Bob")
REDHEAD = "a woman in her 40s with curly red hair"


def labels(reply: Reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row]


def data(reply: Reply, label: str) -> str:
    return next(b.data for row in reply.buttons for b in row if b.label.startswith(label))


async def order(studio: Studio, chat: Chat, first: bool, subject: str, fmt: str) -> int:
    """One order through the wizard, delivered; its id."""
    outbox = studio.outboxes["terminal"]
    assert isinstance(outbox, RecordingOutbox)
    if first:
        await chat.send("/start")
        await chat.press("I agree")
        await chat.files(astronaut_set())
        await chat.press("Done")
    else:
        await chat.send("/new")
    for label in ("Cinematic", "Leather jacket", "City street", "Neon", "Half body"):
        await chat.press(label)
    if subject:
        await chat.send(subject)
    else:
        await chat.press("Skip")
    await chat.press(fmt)
    before = sum(1 for _, r in outbox.sent if r.images)
    await chat.press("✓ Queue it")
    await until(studio, lambda: sum(1 for _, r in outbox.sent if r.images) > before, 20, "results")
    user = await studio.store.user(chat.who.platform, chat.who.user_id)
    last = await studio.store.last_order(user["id"])
    assert last is not None and last["status"] == "delivered"
    return int(last["id"])


async def reopen(data_dir: Path, engine: FakeEngine) -> Studio:
    settings = load_settings(
        data_dir=data_dir, redis_url="redis://127.0.0.1:1/0", queue_prefix="fake", daily_quota=0
    )
    s = await Studio.open(settings, engine=engine, tick_s=0.05, analyze_timeout_s=5)
    s.add_outbox("terminal", RecordingOutbox())
    return s


async def test_portraits_pages_and_resends_with_working_buttons_after_a_restart(
    data_dir: Path, fake_engine: FakeEngine
) -> None:
    first = await reopen(data_dir, fake_engine)
    try:
        lena, bob = Chat(first, LENA), Chat(first, BOB)
        story = await order(first, lena, True, REDHEAD, "Story 9:16")
        ids = [story]
        for _ in range(PAGE + 1):
            ids.append(await order(first, lena, False, "", "Square 1:1 (avatars)"))
        bobs = await order(first, bob, True, "", "Portrait 4:5 (feed posts)")
    finally:
        await first.aclose()

    studio = await reopen(data_dir, fake_engine)  # the studio restarts: nothing in memory
    try:
        chat = Chat(studio, LENA)
        outbox = studio.outboxes["terminal"]
        assert isinstance(outbox, RecordingOutbox)

        # Page 1: the five newest, newest first; Older goes on.
        [page] = await chat.send("/portraits")
        assert "Your portraits (kept 90 days), newest first" in page.text
        newest = list(reversed(ids))[:PAGE]
        assert [int(line.split()[1][1:]) for line in page.text.splitlines()[1:]] == newest
        assert "Cinematic, Square 1:1 (avatars)" in page.text and "4 portraits" in page.text
        assert labels(page) == [f"Show #{i}" for i in newest] + ["Older ▶"]
        assert f"#{bobs}" not in page.text

        # Page 2: the rest; Newest goes back.
        [older] = await chat.press("Older ▶")
        assert [int(line.split()[1][1:]) for line in older.text.splitlines()[1:]] == [
            ids[1],
            ids[0],
        ]
        assert "Cinematic, Story 9:16" in older.text
        assert labels(older) == [f"Show #{ids[1]}", f"Show #{story}", "◀ Newest"]
        [again] = await chat.press("◀ Newest")
        assert again.text == page.text

        # Show the oldest: the same results message, with its buttons.
        [shown] = await chat.press(f"Show #{story}", [older])
        assert len(shown.images) == 4
        assert f"Order #{story} – Cinematic, Story 9:16: your 4 portraits" in shown.text
        assert {"↻ Retry (new seeds)", "Upscale 1", "Label 4", "Report 2"} <= set(labels(shown))

        # Its buttons work: Upscale (a follow-up job, delivered), Report, Retry.
        [started] = await chat.press("Upscale 1", [shown])
        assert "Upscal" in started.text
        upscaled = "Portrait #1 upscaled"
        await until(studio, lambda: any(upscaled in t for t in outbox.texts()), 20, "upscale")
        [reasons] = await chat.press("Report 2", [shown])
        assert reasons.buttons  # the report's reasons
        replies = await chat.press("↻ Retry", [shown])
        user = await studio.store.user("terminal", "lena")
        retry = await studio.store.last_order(user["id"])
        assert retry["retry_of"] == story and retry["aspect"] == "9:16"
        assert retry["subject"] == REDHEAD and "queued" in replies[-1].text

        # Never another person's order; forged, huge and stale ids.
        [no] = await chat.send(Press(LENA, f"h:{bobs}"))
        assert no.text == "This portrait belongs to someone else." and not no.images
        [gone] = await chat.send(Press(LENA, "h:987654"))
        assert "isn't kept any more" in gone.text
        for forged in ("h:0", "h:99999999999999999999", "hp:-1", "h:1:2", "hp:"):
            replies = await chat.send(Press(LENA, forged))
            assert "doesn't work any more" in replies[0].text, forged

        # Past retention (not swept yet): not listed, and explained when pressed.
        await studio.store.run(
            "UPDATE orders SET created_at = '2020-01-01T00:00:00.000Z' WHERE id = ?", ids[1]
        )
        [older] = await chat.send(Press(LENA, f"hp:{ids[2]}"))
        assert f"#{ids[1]} " not in older.text and f"#{story} " in older.text
        [gone] = await chat.send(Press(LENA, f"h:{ids[1]}"))
        assert "past the retention period, or deleted with /forget" in gone.text

        # Forgotten: the old Show buttons explain it; /portraits has nothing.
        [ask] = await chat.send("/forget")
        await chat.send(Press(LENA, data(ask, "Yes")))
        [gone] = await chat.send(Press(LENA, data(page, f"Show #{newest[0]}")))
        assert "isn't kept any more" in gone.text
        user = await studio.store.ensure_user("terminal", "lena", "Lena", "lena-chat")
        assert await studio.store.portraits_page(user["id"], "", None, 10) == []
    finally:
        await studio.aclose()


async def test_portraits_with_none_kept(fake_studio: Studio) -> None:
    chat = Chat(fake_studio, LENA)
    await chat.send("/start")
    await chat.press("I agree")
    [none] = await chat.send("/portraits")
    assert "You have no portraits kept here" in none.text and not none.buttons
