"""Issue 22, item 19: `sitter run` with a Telegram token and no network at start ended in
a 135-line traceback. The real PTB client is pointed at a loopback port where nothing
listens yet; the emulated Bot API comes up there a moment later."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from pathlib import Path

import pytest
from telegram_api import BotApiEmulator, TgUser
from test_telegram_adapter import Recorder

from bot.telegram.app import TelegramAdapter
from bot.telegram.settings import TelegramSettings
from sitter.config import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_no_network_at_start_is_retried_with_one_line(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = _free_port()
    api = BotApiEmulator()
    telegram = TelegramSettings(token=api.token, api_url=f"http://127.0.0.1:{port}")
    adapter = TelegramAdapter(
        Recorder(),  # type: ignore[arg-type]
        Settings(data_dir=data_dir),
        poll_timeout_s=1,
        telegram=telegram,
    )
    with caplog.at_level(logging.INFO):
        running = asyncio.create_task(adapter.run())
        try:
            await asyncio.sleep(2.5)  # three tries while nothing answers
            assert not running.done(), running.exception() if running.done() else None
            await api.start(port)  # the network is back
            for _ in range(200):
                if api.sent("setMyCommands"):
                    break
                await asyncio.sleep(0.05)
            assert api.sent("getMe") and api.sent("setMyCommands"), "the bot never started"
            await api.send_text(TgUser(7, "Ann"), "/start")  # and answers a person now
            await api.wait_for(lambda: bool(api.texts(7)), timeout=10)
            assert api.texts(7)[-1] == "command start"
            assert not running.done()
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            await api.stop()
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len([m for m in warned if "can't reach the Bot API" in m]) == 1, warned
    assert len([m for m in warned if "answers again" in m]) == 1, warned
    assert [r for r in caplog.records if r.exc_info] == []  # no traceback
