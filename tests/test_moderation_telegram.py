"""A report over Telegram, end to end: the real PTB adapter against the Bot API
emulator (the only fake), the real Studio on SQLite and Redis. From a portrait
shared in a group, to the reporter's private chat, to the moderation chat, to the
decision, and back to both people."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from moderation_helpers import seed_person
from telegram_api import BotApiEmulator, TgUser

from bot.studio.core.core import Studio
from bot.telegram.app import TelegramAdapter
from bot.telegram.settings import TelegramSettings
from sitter.config import Settings

ANNA = TgUser(4001, "Anna")  # her portraits
BORIS = TgUser(4002, "Boris")  # his face in them
MIA = TgUser(4003, "Mia")  # moderator
EVE = TgUser(4004, "Eve")  # in the moderation chat, not a moderator
MODS = -500


@pytest.fixture
async def api() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def studio(
    api: BotApiEmulator, redis_url: str, queue_prefix: str, data_dir: Path
) -> AsyncIterator[Studio]:
    settings = Settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    telegram = TelegramSettings(
        token=api.token, api_url=api.url, moderators=[MIA.id], moderation_chat=MODS
    )
    s = await Studio.open(settings, tick_s=0.1)
    adapter = TelegramAdapter(s, settings, album_window_s=0.3, poll_timeout_s=1, telegram=telegram)
    await adapter.start()
    tracker = asyncio.create_task(s.run_background())
    yield s
    tracker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await tracker
    await adapter.stop()
    await s.aclose()


async def said(api: BotApiEmulator, chat_id: int, words: str, timeout: float = 15.0) -> str:
    return await api.wait_for(
        lambda: next((t for t in reversed(api.texts(chat_id)) if words in t), None),
        timeout,
        f"{words!r} in chat {chat_id}",
    )


async def test_report_over_telegram_from_group_to_decision(
    api: BotApiEmulator, studio: Studio
) -> None:
    # Anna's order is finished; the background tracker delivers it with Report buttons.
    for user in (ANNA, BORIS):
        api.private_chat(user)
    api.group_chat(MODS, "Moderators")
    ann = await seed_person(studio.store, "telegram", str(ANNA.id), chat=str(ANNA.id))
    await studio.store.run("UPDATE orders SET status = 'done', delivered_at = NULL")
    await api.wait_for(lambda: "Report 2" in api.buttons(ANNA.id), 15, "Anna's portraits")
    results, _ = api.find_button(ANNA.id, "Report 2")

    # She shares them in a group; Boris presses Report 2 there.
    group = api.group_chat(-777, "Friends")
    shared = {**copy.deepcopy(results), "chat": group, "message_id": 99}
    qid = await api.press(BORIS, shared, f"rep:{ann['variations'][1]}")
    await api.wait_for(lambda: api.answered(qid), 10, "popup")
    await said(api, BORIS.id, "Why are you reporting this portrait?")
    await api.press_button(BORIS, "It's me")
    await said(api, BORIS.id, "Your report #1 (it's me and I did not consent) is with")

    # The moderation chat gets the card with the portrait and the five actions.
    await api.wait_for(lambda: "Ban owner" in api.buttons(MODS), 10, "the card")
    card = next(c for c in api.sent(chat_id=MODS) if c.method == "sendPhoto")
    assert "Report #1 · It's me and I did not consent" in card.params["caption"]
    assert f"Owner: 4001 (telegram:{ANNA.id}, user #1)" in card.params["caption"]

    # Eve may not act; Mia removes the images.
    await api.press_button(EVE, "Remove images", MODS)
    await said(api, MODS, "Only moderators can act on reports.")
    await api.press_button(MIA, "Remove images", MODS)
    await said(api, MODS, "Decided: portraits removed, by telegram:4003 (Mia)")
    await said(api, MODS, "Done: report #1 portraits removed.")

    # Both people hear the outcome in their private chats.
    await said(api, BORIS.id, "Your report #1 (it's me and I did not consent) was reviewed")
    await said(api, ANNA.id, "A moderator removed your portraits from order #1")

    # /report replying to the buttons message (private chat): pick the portrait first.
    msg = api._user_message(BORIS, None)
    msg.update(
        text="/report",
        entities=[{"type": "bot_command", "offset": 0, "length": 7}],
        reply_to_message={**copy.deepcopy(results), "chat": api.private_chat(BORIS)},
    )
    await api._push({"message": msg}, "Boris: /report (reply)")
    await api.wait_for(lambda: "Portrait 4" in api.buttons(BORIS.id), 10, "portrait choice")
