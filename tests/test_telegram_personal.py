"""A personal model over Telegram, end to end and fast: python-telegram-bot against the
loopback Bot API, the real Studio over a SQLite file with its background tracker, the
in-memory engine (tests/fake_engine.py) answering the train job with real safetensors
bytes. The flow: the offer after Done, consent, live progress edited in one message
(%, time left), Stop, learned, used in an order (its summary and its results say
"personal model"), switched off, /forget."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_engine import FakeEngine
from telegram_api import BotApiEmulator, TgUser
from test_personal_flow import WIZARD, photos

from bot.studio.core.core import Studio
from bot.studio.personal import words_personal as wpm
from bot.telegram.app import TelegramAdapter
from bot.telegram.settings import TelegramSettings
from sitter import contract as c
from sitter.config import load_settings

ANNA = TgUser(2301, "Anna")
TIMEOUT = 20.0


@pytest.fixture
async def api() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def fake() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
async def studio(api: BotApiEmulator, fake: FakeEngine, data_dir: Path) -> AsyncIterator[Studio]:
    settings = load_settings(
        data_dir=data_dir, redis_url="redis://127.0.0.1:1/0", queue_prefix="fake",
        min_photos=4, train_min_photos=6, daily_quota=100, progress_edit_s=0.5,
    )  # fmt: skip
    s = await Studio.open(settings, engine=fake, tick_s=0.05, analyze_timeout_s=5)
    adapter = TelegramAdapter(
        s,
        settings,
        album_window_s=0.3,
        poll_timeout_s=1,
        chat_rate=50,
        telegram=TelegramSettings(token=api.token, api_url=api.url),
    )
    await adapter.start()
    tracker = asyncio.create_task(s.run_background())
    yield s
    tracker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await tracker
    await adapter.stop()
    await s.aclose()


async def _said(api: BotApiEmulator, words: str, timeout: float = TIMEOUT, since: int = 0) -> str:
    """The newest text with ``words`` (among those after the first ``since``)."""
    return await api.wait_for(
        lambda: next((t for t in reversed(api.texts(ANNA.id)[since:]) if words in t), None),
        timeout,
        repr(words),
    )


async def _button(api: BotApiEmulator, label: str, timeout: float = TIMEOUT) -> None:
    await api.wait_for(lambda: any(label in b for b in api.buttons(ANNA.id)), timeout, label)
    await api.press_button(ANNA, label)


async def test_personal_model_over_telegram(
    api: BotApiEmulator, studio: Studio, fake: FakeEngine
) -> None:
    files = photos(6)
    fake.show(files, "anna")
    await api.send_text(ANNA, "/start")
    await _button(api, "I agree")
    await _said(api, "Send me photos")
    await api.send_album(ANNA, [f.data for f in files if f.data], "album-personal")
    await _button(api, "Done (6")
    await _said(api, "/train tells you more")  # the offer's word after Done
    await _button(api, wpm.OFFER_BUTTON)
    offer = await _said(api, "Personal model (optional)")
    assert "never for anyone else" in offer and "/forget" in offer

    # Consent, then live progress in one edited message, then Stop.
    fake.delay[c.JOB_TRAIN] = 20.0
    await _button(api, wpm.AGREE_BUTTON)
    bar = await _said(api, "Learning your personal model")
    assert "%" in bar and "left" in bar
    edits = [m for m in api.sent("editMessageText", ANNA.id) if "Learning" in m.params["text"]]
    first = next(
        m for m in api.sent("sendMessage", ANNA.id) if "waiting to start" in m.params["text"]
    )
    assert {str(m.params["message_id"]) for m in edits} == {str(first.result["message_id"])}
    await _button(api, "Stop training")
    await _said(api, wpm.STOPPED)
    assert not fake.checkpoints and not [j for j in fake.jobs.values() if j.name == c.JOB_TRAIN]

    # Learned, and used by the next order.
    fake.delay[c.JOB_TRAIN] = 0.0
    await api.send_text(ANNA, "/train")
    await _button(api, wpm.AGREE_BUTTON)
    await _said(api, "personal model is ready")
    since = len(api.texts(ANNA.id))
    await api.send_text(ANNA, "/new")
    await _said(api, "choose a style", since=since)
    for n, label in enumerate(WIZARD, 2):
        since = len(api.texts(ANNA.id))
        await api.press_button(ANNA, label)
        await _said(api, f"Step {n} of 7" if n < 8 else "Queue it?", since=since)
    summary = api.texts(ANNA.id)[-1]
    assert wpm.SUMMARY_LINE in summary
    await _button(api, "Queue it")
    await _said(api, wpm.RESULTS_LINE)

    # Off, then /forget: nothing of it left on disk or in the database.
    await _button(api, wpm.OFF_BUTTON)
    await _said(api, wpm.switched(False))
    row = await studio.store.latest_personal(1)
    path = studio.store.media.path(row["path"])
    assert path.exists() and row["enabled"] == 0
    await api.send_text(ANNA, "/forget")
    since = len(api.texts(ANNA.id))
    await _button(api, "Yes, delete everything")
    await _said(api, "Done. I deleted", since=since)
    assert not path.exists() and await studio.store.latest_personal(1) is None
