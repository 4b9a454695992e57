"""The studio in the person's language over Telegram (issue 26): python-telegram-bot
against the loopback Bot API, the real Studio over a SQLite file, the in-memory engine
(tests/fake_engine.py). A client whose language_code is "ru" is answered in Russian from
its first message (consent, photos, the wizard's steps); /language mid-wizard switches to
Spanish and keeps every answer given; a client in a language without a catalog gets
English; the terminal follows LANG."""

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
from bot.telegram.app import TelegramAdapter
from bot.telegram.settings import TelegramSettings
from sitter.config import load_settings

OLGA = TgUser(2601, "Olga", language_code="ru")
HANS = TgUser(2602, "Hans", language_code="de")
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
        min_photos=4, daily_quota=100,
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


async def _said(api: BotApiEmulator, who: TgUser, words: str, since: int = 0) -> str:
    return await api.wait_for(
        lambda: next((t for t in reversed(api.texts(who.id)[since:]) if words in t), None),
        TIMEOUT,
        repr(words),
    )


async def _press(api: BotApiEmulator, who: TgUser, label: str) -> None:
    await api.wait_for(lambda: any(label in b for b in api.buttons(who.id)), TIMEOUT, label)
    await api.press_button(who, label)


async def test_a_russian_client_is_answered_in_russian_and_can_switch_mid_wizard(
    api: BotApiEmulator, studio: Studio, fake: FakeEngine
) -> None:
    files = photos(4)
    fake.show(files, "olga")
    await api.send_text(OLGA, "/start")
    welcome = await _said(api, OLGA, "Привет! Я Sitter")
    assert "Прежде чем начать" in welcome and "/forget" in welcome
    user = await studio.store.user("telegram", str(OLGA.id))
    assert user is not None and user["locale"] == "ru"  # remembered from language_code
    await _press(api, OLGA, "Принимаю")
    asked = await _said(api, OLGA, "Пришлите мне свои фотографии")
    assert "не меньше 4" in asked
    await api.send_album(OLGA, [f.data for f in files if f.data], "album-ru")
    await _said(api, OLGA, "✓ принято.")
    await _press(api, OLGA, "Готово (фото: 4)")
    await _said(api, OLGA, "Шаг 1 из 7")
    await api.press_button(OLGA, WIZARD[0])  # the style (its name is the style's data)
    await _said(api, OLGA, "Шаг 2 из 7")
    await api.press_button(OLGA, WIZARD[1])
    step3 = len(api.texts(OLGA.id))
    await _said(api, OLGA, "Шаг 3 из 7")

    # /language mid-wizard: the buttons in each language's own name, then Spanish.
    await api.send_text(OLGA, "/language")
    await _said(api, OLGA, "На каком языке мне с вами говорить?")
    labels = set(api.buttons(OLGA.id))
    assert {"English", "Русский", "Español", "Português (Brasil)", "العربية"} <= labels
    since = len(api.texts(OLGA.id))
    await api.press_button(OLGA, "Español")
    await _said(api, OLGA, "A partir de ahora te hablo en español", since)
    await _said(api, OLGA, "Paso 3 de 7", since)  # the same step, its answers kept
    assert (await studio.store.user("telegram", str(OLGA.id)))["locale"] == "es"
    spanish = {"Skip": "Omitir"}  # the wizard's own buttons speak Spanish now
    for n, label in enumerate([spanish.get(x, x) for x in WIZARD[2:]], 3):
        since = len(api.texts(OLGA.id))
        await _press(api, OLGA, label)
        await _said(api, OLGA, f"Paso {n + 1} de 7" if n < 7 else "Tu pedido:", since)
    summary = await _said(api, OLGA, "Tu pedido:", step3)
    assert WIZARD[0] in summary and WIZARD[1] in summary  # chosen before the switch
    assert "Enviar a la cola" in "".join(api.buttons(OLGA.id))


async def test_a_language_without_a_catalog_gets_english(
    api: BotApiEmulator, studio: Studio
) -> None:
    await api.send_text(HANS, "/start")
    await _said(api, HANS, "Hi! I'm Sitter")
    user = await studio.store.user("telegram", str(HANS.id))
    assert user is not None and user["locale"] is None  # unknown: English until offered


async def test_the_terminal_follows_lang(
    fake: FakeEngine, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`LANG=pt_BR.UTF-8 sitter chat`: the studio speaks Brazilian Portuguese."""
    import io

    from bot.adapter import Services
    from bot.terminal.app import TerminalChat

    monkeypatch.setenv("LANG", "pt_BR.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    settings = load_settings(
        data_dir=data_dir, redis_url="redis://127.0.0.1:1/0", queue_prefix="fake"
    )

    async def session(lines: str) -> str:
        studio = await Studio.open(settings, engine=fake, tick_s=0.05)
        out = io.StringIO()
        try:
            chat = TerminalChat(tmp_path / "out", stdin=io.StringIO(lines), stdout=out)
            await chat.run(Services(settings, studio))
        finally:
            await studio.aclose()
        return out.getvalue()

    screen = await session("1\n/help\n/quit\n")
    assert "Oi! Eu sou o Sitter" in screen and "Eu aceito" in screen
    assert "Me mande fotos suas" in screen  # after "1": the first button, Eu aceito
    assert "Como funciona" in screen and "/language – o idioma em que falo com você" in screen
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")  # the next start follows LANG again
    screen = await session("/help\n/quit\n")
    assert "Как это работает" in screen
