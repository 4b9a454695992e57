"""Portraits of two people over Telegram, two users on the real python-telegram-bot
client against the loopback Bot API (tests/telegram_api.py), the real Studio over a
SQLite file, and the in-memory engine (tests/fake_engine.py) answering the joint order:
the invitation travels as a deep link ``t.me/<bot>?start=<token>``; the second person
opens it, agrees, sends her own photos and accepts in her own chat; both get the
portraits with their buttons; her Upscale acts on her copy; her /forget deletes the
joint portraits for both. Then: decline, a third person's press, expiry, withdraw
while the order waits, and a report from the second person."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_engine import FakeEngine
from studio_harness import astronaut_set
from telegram_api import BOT_USERNAME, BotApiEmulator, TgUser
from together_helpers import WIZARD, other_person_set, token_in

from bot.store.store import now_iso
from bot.studio.core.core import Studio
from bot.telegram.app import TelegramAdapter
from bot.telegram.settings import TelegramSettings
from sitter import contract as c
from sitter.config import Settings

ANN = TgUser(2401, "Ann")
BEA = TgUser(2402, "Bea")
CAY = TgUser(2403, "Cay")
T = 20.0


@pytest.fixture
async def api() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
async def studio(api: BotApiEmulator, engine: FakeEngine, data_dir: Path) -> AsyncIterator[Studio]:
    settings = Settings(data_dir=data_dir, redis_url="redis://127.0.0.1:1/0", queue_prefix="tg2")
    s = await Studio.open(settings, engine=engine, tick_s=0.05, analyze_timeout_s=5)
    adapter = TelegramAdapter(
        s,
        settings,
        album_window_s=0.3,
        poll_timeout_s=1,
        chat_rate=20,
        telegram=TelegramSettings(token=api.token, api_url=api.url, moderation_chat=-100),
    )
    await adapter.start()
    background = asyncio.create_task(s.run_background())
    yield s
    background.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await background
    await adapter.stop()
    await s.aclose()


async def said(api: BotApiEmulator, chat: int, words: str, timeout: float = T) -> str:
    return await api.wait_for(
        lambda: next((t for t in reversed(api.texts(chat)) if words in t), None),
        timeout,
        f"{words!r} in chat {chat}",
    )


async def press(api: BotApiEmulator, user: TgUser, label: str, then: str) -> str:
    before = sum(then in t for t in api.texts(user.id))
    await api.press_button(user, label)
    await api.wait_for(lambda: sum(then in t for t in api.texts(user.id)) > before, T, then)
    return next(t for t in reversed(api.texts(user.id)) if then in t)


async def command(api: BotApiEmulator, user: TgUser, text: str, then: str) -> str:
    """Send a command, wait for a NEW text with ``then``; return it."""
    before = sum(then in t for t in api.texts(user.id))
    await api.send_text(user, text)
    await api.wait_for(lambda: sum(then in t for t in api.texts(user.id)) > before, T, then)
    return next(t for t in reversed(api.texts(user.id)) if then in t)


async def onboard(api: BotApiEmulator, engine: FakeEngine, user: TgUser, person: str) -> None:
    photos = astronaut_set() if person == "astronaut" else other_person_set(person)
    engine.show(photos, person)
    if not api.texts(user.id):  # (an invitation's link opened the chat already)
        await api.send_text(user, "/start")
    await api.wait_for(lambda: "I agree" in str(api.last_message(user.id)), T, "consent")
    await press(api, user, "I agree", "Send me photos")
    await api.send_album(user, [p.data for p in photos if p.data], f"album-{user.id}")
    await api.wait_for(lambda: any("Done (4" in b for b in api.buttons(user.id)), T, "Done")
    await press(api, user, "Done (4", "choose a style")


async def order_together(api: BotApiEmulator, placement: str) -> None:
    await press(api, ANN, "Make our portrait", "choose a style")
    await press(api, ANN, "Professional headshot", "how do the two of you stand?")
    await press(api, ANN, placement, "Step 3 of 8")
    for i, label in enumerate(WIZARD):
        await press(api, ANN, label, f"Step {i + 4} of 8" if i + 1 < len(WIZARD) else "Queue it?")
    await said(api, ANN.id, f"Placement: {placement}")
    await press(api, ANN, "Queue it", "Order #")


async def invited(api: BotApiEmulator, engine: FakeEngine) -> str:
    await onboard(api, engine, ANN, "astronaut")
    link = await press(api, ANN, "Portrait together", f"https://t.me/{BOT_USERNAME}?start=")
    return token_in(link)


async def test_two_people_over_telegram(
    api: BotApiEmulator, engine: FakeEngine, studio: Studio
) -> None:
    seen: list[c.GenerateRequest] = []
    real = engine.handlers["generate"]
    engine.handlers["generate"] = lambda e, req: (seen.append(req), real(e, req))[1]
    token = await invited(api, engine)

    # Bea opens the link before she has agreed to anything: consent first, it waits.
    await api.send_text(BEA, f"/start {token}")
    await said(api, BEA.id, "Ann invites you to a portrait of the two of you. First agree")
    await onboard(api, engine, BEA, "bella")
    await api.send_text(BEA, "/together")
    await said(api, BEA.id, "Ann invited you: waiting for an answer")
    await press(api, BEA, "Accept", "Accepted. Ann can now order")
    await said(api, ANN.id, "Bea accepted your invitation")

    await order_together(api, "Facing each other")
    [ann_album] = await api.wait_calls("sendMediaGroup", 1, ANN.id, timeout=T)
    [bea_album] = await api.wait_calls("sendMediaGroup", 1, BEA.id, timeout=T)
    assert len(ann_album.files) == 4 and len(bea_album.files) == 4
    await said(api, BEA.id, "portraits of you and Ann, ordered by Ann")
    [req] = seen
    assert len(req.partner_references) == 4 and req.placement == c.Placement.FACING
    for label in ("Upscale 1", "Label 1", "Delete our portraits", "Retry (charged to Ann)"):
        assert any(label in b for b in api.buttons(BEA.id)), api.buttons(BEA.id)

    # Her Upscale acts on her copy, in her chat.
    await api.press_button(BEA, "Upscale 2")
    await api.wait_calls("sendDocument", 1, BEA.id, timeout=T)
    assert not api.sent("sendDocument", ANN.id)

    # Her /forget deletes the portraits of the two of them, for Ann too.
    ann_id = (await studio.store.user("telegram", str(ANN.id)))["id"]
    order = await studio.store.last_order(ann_id)
    await api.send_text(BEA, "/forget")
    await said(api, BEA.id, "cannot be undone")
    done = await press(api, BEA, "Yes, delete everything", "Done. I deleted")
    assert "1 order and 4 portraits" in done
    assert await studio.store.order(order["id"]) is None
    # Ann's old buttons on the joint portraits now find nothing.
    await api.press_button(ANN, "Upscale 1")
    await said(api, ANN.id, "That portrait no longer exists.")


async def test_decline_foreign_expiry_withdraw_and_report_over_telegram(
    api: BotApiEmulator, engine: FakeEngine, studio: Studio
) -> None:
    api.group_chat(-100, "Moderators")  # SITTER_TELEGRAM_MODERATION_CHAT
    token = await invited(api, engine)
    await onboard(api, engine, CAY, "cay")
    await api.send_text(CAY, f"/start {token}")
    await said(api, CAY.id, "Accepting is your consent")
    # A third person pressing Cay's Accept (as if forwarded) is refused.
    await api.send_text(BEA, "/help")
    await said(api, BEA.id, "/forget")
    message, data = api.find_button(CAY.id, "Accept")
    await api.press(BEA, {**message, "chat": {**message["chat"], "id": BEA.id}}, data)
    await said(api, BEA.id, "That invitation is not yours to answer.")
    await press(api, CAY, "Decline", "Declined.")
    await said(api, ANN.id, "Cay declined your invitation")
    await api.press(CAY, message, data)  # Accept after declining: stale
    await said(api, CAY.id, "withdrawn or already answered")

    # Expiry: the next invitation lapses before Bea opens it.
    token2 = token_in(await command(api, ANN, "/together", "Here is your invitation"))
    assert token2 != token
    await studio.store.run("UPDATE invitations SET expires_at = ? WHERE status = 'open'", now_iso())
    await api.send_text(BEA, f"/start {token2}")
    await said(api, BEA.id, "That invitation has expired")

    # A fresh one: accepted; the order waits in the queue; Bea withdraws: it stops.
    token3 = token_in(await command(api, ANN, "/together", "Here is your invitation"))
    await api.send_text(BEA, f"/start {token3}")
    await said(api, BEA.id, "First agree")
    await onboard(api, engine, BEA, "bella")  # (the invitation waited meanwhile)
    await command(api, BEA, "/together", "Ann invited you: waiting for an answer")
    await press(api, BEA, "Accept", "Accepted.")
    await said(api, ANN.id, "Bea accepted")
    engine.stop()
    await order_together(api, "Side by side")
    assert await engine.queue_depth("gpu") == 1
    await press(api, BEA, "Withdraw", "Withdrawn.")
    await said(api, ANN.id, "Bea withdrew from portraits together")
    assert await engine.queue_depth("gpu") == 0

    # Another accepted invitation, a delivered order, and Bea reports portrait 2.
    engine.start()
    token4 = token_in(await command(api, ANN, "/together", "Here is your invitation"))
    await command(api, BEA, f"/start {token4}", "Accepting is your consent")
    await press(api, BEA, "Accept", "Accepted.")
    await order_together(api, "Shoulder to shoulder")
    await said(api, BEA.id, "portraits of you and Ann, ordered by Ann")
    await press(api, BEA, "Report 2", "Why are you reporting this portrait?")
    await press(api, BEA, "It's me", "is with the moderators")
    await api.wait_for(lambda: "Ban owner" in api.buttons(-100), T, "the moderators' card")
