"""A pet's portrait over Telegram (issue 25): the real PTB client against the loopback Bot
API (tests/telegram_api.py), the real Studio on a SQLite file, and the in-memory engine
(tests/fake_engine.py: scikit-image's chelsea is the cat, the astronaut a photo with a
person and no pet). What is asserted is what the bot sent to the server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_engine import FakeEngine
from studio_harness import astronaut_set
from telegram_api import BotApiEmulator, TgUser
from telegram_harness import BotProcess
from test_studio_pets import _chelsea, cat_set

from sitter import contract as c
from sitter.config import Settings

MIRA = TgUser(2101, "Mira")


@pytest.fixture
async def api() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def bot(api: BotApiEmulator, data_dir: Path) -> AsyncIterator[tuple[BotProcess, FakeEngine]]:
    fake = FakeEngine()
    fake.show(astronaut_set(), "astronaut")
    fake.show_pet(cat_set(), "mochi", "cat")
    settings = Settings(
        data_dir=data_dir,
        redis_url="redis://127.0.0.1:1/0",  # nothing answers there: no Redis in this test
        queue_prefix="tg-pets",
        min_photos=2,
    )
    proc = await BotProcess(settings, api, engine=fake).start()
    yield proc, fake
    await proc.stop()


async def said(api: BotApiEmulator, words: str, timeout: float = 20.0) -> str:
    return await api.wait_for(
        lambda: next((t for t in reversed(api.texts(MIRA.id)) if words in t), None),
        timeout,
        repr(words),
    )


def last_buttons(api: BotApiEmulator) -> list[str]:
    markup = api.last_message(MIRA.id).get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


async def test_a_cats_portrait_on_telegram(
    api: BotApiEmulator, bot: tuple[BotProcess, FakeEngine]
) -> None:
    proc, fake = bot
    await api.send_text(MIRA, "/start")
    await api.wait_for(lambda: "I agree" in api.buttons(MIRA.id), what="consent")
    await api.press_button(MIRA, "I agree")
    await said(api, "Send me photos")
    await api.send_text(MIRA, "/pet")
    await said(api, "what is its name")
    await api.send_text(MIRA, "Mochi")
    await said(api, "Is Mochi a cat or a dog?")
    await api.press_button(MIRA, "A cat")
    await said(api, "Send me photos of Mochi")
    await api.send_photo(MIRA, astronaut_set()[0].data or b"")
    await said(api, "there is a person in it; a pet's set takes photos of the pet alone")
    await api.send_album(MIRA, [d for _, d in _chelsea()], "cats")
    await api.wait_for(lambda: any("Done (" in b for b in last_buttons(api)), 20, "Done")
    await api.press_button(MIRA, "Done (")
    await said(api, "Great, 4 photos of Mochi are ready.")
    await api.wait_for(lambda: "Royal portrait" in last_buttons(api), 10, "the styles")
    styles = last_buttons(api)
    assert "Royal portrait" in styles and "Professional headshot" not in styles
    steps = ("Royal portrait", "As in my photos", "Library", "Soft daylight", "Headshot")
    for label, after in zip(steps, ("Step 2", "Step 3", "Step 4", "Step 5", "Step 6"), strict=True):
        await api.press_button(MIRA, label)
        await said(api, after)
    await api.press_button(MIRA, "Square 1:1")
    summary = await said(api, "Portrait of: Mochi (cat)")
    assert "Described as" not in summary  # a pet is not described like a person
    await api.press_button(MIRA, "Queue it")
    await said(api, "of Mochi: your 4 portraits", 30)
    assert fake.asked[-1].subject == c.Subject.CAT
    albums = [x.params["media"] for x in api.sent("sendMediaGroup", MIRA.id)]
    captions = [m.get("caption", "") for album in albums for m in album]
    assert any("its coat's colours drifted" in cap for cap in captions), captions

    # /forget deletes the pet's set with the rest.
    await api.send_text(MIRA, "/forget")
    await api.wait_for(lambda: any("Yes" in b for b in last_buttons(api)), 10, "forget ask")
    await api.press_button(MIRA, "Yes")
    await said(api, "Done. I deleted 5 photos, 1 order and 4 portraits")  # (one refused)
    assert proc.studio is not None
    for table in ("reference_sets", "working_sets", "reference_photos", "orders"):
        assert (await proc.studio.store.one(f"SELECT COUNT(*) FROM {table}"))[0] == 0, table
