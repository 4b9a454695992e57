"""`sitter run` / `sitter bot` stop cleanly on SIGTERM (what `docker compose stop` sends)."""

from __future__ import annotations

import asyncio
import os
import signal

from bot.app import until_stopped


async def test_sigterm_cancels_main_and_runs_its_cleanup() -> None:
    cleaned: list[str] = []

    async def main() -> int:
        try:
            await asyncio.sleep(3600)
            return 1
        finally:
            cleaned.append("adapters closed, worker stopped")

    loop = asyncio.get_running_loop()
    loop.call_later(0.1, os.kill, os.getpid(), signal.SIGTERM)
    try:
        assert await asyncio.wait_for(until_stopped(main()), 10) == 0
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
    assert cleaned == ["adapters closed, worker stopped"]


async def test_a_normal_exit_keeps_its_code() -> None:
    async def main() -> int:
        return 3

    assert await until_stopped(main()) == 3
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.remove_signal_handler(sig)
