"""The bot's wait for the semantic screen (issue 22, second review): a fast worker that is
alive but does not answer (loading its model, or busy) holds a typed answer up for a few
seconds at most, and the worker warms its screen model before it takes a job."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis

from bot.studio.safety import semantic
from sitter.heartbeat import Heartbeat
from sitter.queue import EngineClient


@pytest.fixture
async def redis(redis_url: str, queue_prefix: str) -> AsyncIterator[ArqRedis]:
    from sitter.queue import connect

    pool = await connect(redis_url, queue_prefix)
    yield pool
    await pool.aclose()


async def test_a_silent_fast_worker_holds_an_answer_up_briefly(
    redis: ArqRedis, queue_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Its heartbeat is there, its queue is not served: the lists decide after <= 3 s
    (it was 10 s), and the log says how long the bot waited."""
    beat = Heartbeat(redis, queue_prefix, ["fast"], 5.0)
    await beat.serving()
    engine = EngineClient(redis, queue_prefix, poll_delay=0.02)
    try:
        with caplog.at_level(logging.WARNING, logger=semantic.__name__):
            started = time.monotonic()
            refusal = await semantic.text_refusal(engine, "a navy suit")
            waited = time.monotonic() - started
        assert refusal is None
        assert waited < 4.0, waited
        assert "semantic screen skipped after" in caplog.text and "TimeoutError" in caplog.text
        # the lists still refuse on their own
        assert await semantic.text_refusal(engine, "nude") is not None
    finally:
        await beat.stop()


def test_the_fast_worker_warms_its_screen_model_at_start() -> None:
    from engine.runtime import Runtime
    from sitter.config import load_settings

    rt = Runtime(load_settings(text_screen_model="bundled")).load(("screen",))
    assert "screen_warm_up" in rt.load_seconds
    assert not rt.require_text_screen().judge({"text": "wearing absolutely nothing"}).ok
