"""A content pack over Telegram, end to end: the Bot API emulator (the only fake), the
real PTB client, the real Studio over a SQLite file, real Redis and the real worker
with the tiny model. The LinkedIn pack is cut to two looks of two images (the wizard
and the order are the real ones); the bot is restarted between the two albums, and
what it sent on Telegram is counted. ``SITTER_PACK_BENCH=1`` also runs the creator pack
(8 looks) and prints the figures for the closing note.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time

import pytest
from telegram_api import BotApiEmulator, TgUser
from telegram_harness import BotProcess
from test_telegram_studio import (  # the module's fixtures: worker, emulator, bot
    api,
    bot,
    consent_and_photos,
    engine,
    said,
    settings,
)

from bot.studio.core import core as studio_core
from sitter.packs import load_packs

__all__ = ["api", "bot", "engine", "settings"]

ANNA = TgUser(2101, "Anna", "anna_p")
TIMEOUT = 120.0
SENT = ("sendMessage", "editMessageText", "sendMediaGroup", "sendPhoto", "sendDocument")


@pytest.fixture(autouse=True)
def small_linkedin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The LinkedIn pack with two of its looks, two images each (everything else real)."""

    def packs(library):  # type: ignore[no-untyped-def]
        found = load_packs(library)
        p = found["linkedin"]
        found["linkedin"] = dataclasses.replace(p, looks=p.looks[:2], images_per_look=2)
        return found

    monkeypatch.setattr(studio_core, "load_packs", packs)


def counts(api: BotApiEmulator, chat_id: int, since: int) -> dict[str, int]:
    """What the bot sent to the chat after call number ``since``, by method."""
    out = dict.fromkeys(SENT, 0)
    for call in api.sent(chat_id=chat_id):
        if api.calls.index(call) >= since and call.method in out:
            out[call.method] += 1
    return out


async def choose_pack(api: BotApiEmulator, user: TgUser, pack: str, questions: int) -> str:
    await api.press_button(user, "Done (2")
    await said(api, user.id, "choose a style")
    await api.press_button(user, "Packs")
    await said(api, user.id, "Choose a pack")
    await api.press_button(user, pack)
    for n in range(2, questions + 2):
        await said(api, user.id, f"Step {n} of {questions + 1}")
        msg = api.last_message(user.id)
        first = msg["reply_markup"]["inline_keyboard"][0][0]
        await api.press(user, msg, first["callback_data"])
    return await said(api, user.id, "Queue it?")


async def test_a_pack_order_over_telegram_with_a_restart_between_albums(
    api: BotApiEmulator, bot: BotProcess
) -> None:
    await consent_and_photos(api, ANNA)
    summary = await choose_pack(api, ANNA, "LinkedIn headshots", 1)
    assert "Pack: LinkedIn headshots – 2 looks × 2 images" in summary
    assert "1. Boardroom (Professional headshot)" in summary and "Lighting: " in summary
    assert "That's 4 images of today's 80 (0 used so far, 80 left)" in summary
    since = len(api.calls)
    started = time.monotonic()
    await api.press_button(ANNA, "Queue it")
    await said(api, ANNA.id, "Order #1 (LinkedIn headshots, 2 looks) is queued")

    # The first look's album (and its buttons), then the bot goes down before the second.
    await api.wait_calls("sendMediaGroup", 1, ANNA.id, timeout=TIMEOUT)
    await said(api, ANNA.id, "look 1 of 2: Boardroom (#1–#2)", TIMEOUT)
    await bot.stop()
    assert len(api.sent("sendMediaGroup", ANNA.id)) == 1  # the second look: not yet sent
    assert not api.sent("sendPhoto", ANNA.id)  # nor the contact sheet
    await bot.start()
    await said(api, ANNA.id, "Order #1 (LinkedIn headshots) is ready", TIMEOUT)
    elapsed = time.monotonic() - started

    albums = api.sent("sendMediaGroup", ANNA.id)
    assert len(albums) == 2 and all(len(a.params["media"]) == 2 for a in albums)
    captions = [m["caption"].split(" ")[0] for a in albums for m in a.params["media"]]
    assert captions == ["#1", "#2", "#3", "#4"]
    [sheet] = api.sent("sendPhoto", ANNA.id)
    _name, data = next(iter(sheet.files.values()))
    assert data[:3] == b"\xff\xd8\xff"  # the contact sheet, a JPEG
    assert "all 4 portraits" in sheet.params["caption"]
    assert "Boardroom #1–#2, Studio grey #3–#4" in sheet.params["caption"]
    buttons = api.buttons(ANNA.id)
    for n in range(1, 5):
        assert f"Upscale {n}" in buttons and f"Label {n}" in buttons
    # The progress message is one message, edited in place.
    edits = [c for c in api.sent("editMessageText", ANNA.id) if "Order #1" in c.params["text"]]
    assert edits and len({c.params["message_id"] for c in edits}) == 1
    sent = counts(api, ANNA.id, since)
    assert sent["sendMediaGroup"] == 2 and sent["sendPhoto"] == 1
    assert sent["sendMessage"] <= 4, sent  # queued + a buttons message per album (+ answer)
    print(f"\npack 2 looks x 2 (restart between albums): {elapsed:.1f}s, sent {sent}")

    # Delivered exactly once, also after another restart.
    await bot.restart()
    await asyncio.sleep(1.0)
    assert len(api.sent("sendMediaGroup", ANNA.id)) == 2
    assert len(api.sent("sendPhoto", ANNA.id)) == 1

    # Retry is per pack: the whole pack again (4 more images), under the sheet.
    await api.press_button(ANNA, "Retry")
    await said(api, ANNA.id, "Painting pack order #1 again with new seeds (4 images)")
    await said(api, ANNA.id, "Order #2 (LinkedIn headshots) is ready", TIMEOUT)
    await api.send_text(ANNA, "/status")
    status = await said(api, ANNA.id, "Images today")
    assert "Order #2 (LinkedIn headshots): delivered." in status
    assert "Images today: 8 of 80" in status


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("SITTER_PACK_BENCH"), reason="SITTER_PACK_BENCH=1")
async def test_bench_the_creator_pack_of_eight_looks(api: BotApiEmulator, bot: BotProcess) -> None:
    """Figures: enqueue to the last delivery, and what was sent on Telegram."""
    await consent_and_photos(api, ANNA)
    await choose_pack(api, ANNA, "Creator pack", 2)
    since = len(api.calls)
    started = time.monotonic()
    await api.press_button(ANNA, "Queue it")
    await said(api, ANNA.id, "is ready", 600)
    elapsed = time.monotonic() - started
    sent = counts(api, ANNA.id, since)
    assert len(api.sent("sendPhoto", ANNA.id)) == 9  # 8 looks of one image + the sheet
    print(f"\ncreator pack 8 looks x 1, tiny model: enqueue -> last delivery {elapsed:.1f}s")
    print(f"sent on Telegram: {sent} (total {sum(sent.values())})")
    print(f"--- transcript ---\n{api.transcript()}\n--- end ---")
