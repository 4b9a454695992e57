"""`sitter run` / `sitter bot` / `sitter chat`: one start-up path (bot/app.py), and a clean
stop on SIGTERM (what `docker compose stop` sends)."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from bot.app import until_stopped

pytestmark = pytest.mark.studio_db  # redis_url: the studio tests' own db


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


# --- issue 11: one start-up path for `sitter run`, `sitter bot` and `sitter chat` --------------
class _Forever:
    name = "forever"

    def __init__(self) -> None:
        self.got: list[object] = []
        self.cancelled = False

    async def run(self, services: object) -> None:
        self.got.append(services)
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled = True
            raise


class _Leaves:
    name = "leaves"

    async def run(self, services: object) -> None:
        await asyncio.sleep(0.05)  # the person typed /quit


class _Breaks:
    name = "breaks"

    async def run(self, services: object) -> None:
        await asyncio.sleep(0.05)
        raise RuntimeError("the adapter broke")


async def test_every_adapter_gets_the_same_services_and_stops_with_the_first_to_end(
    data_dir, redis_url, queue_prefix
) -> None:
    from bot.app import serve, services
    from sitter.config import load_settings

    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    a, b = _Forever(), _Forever()
    async with services(settings, worker=False, local_redis=False) as live:
        assert live.studio.store.db is not None and live.settings.redis_url == redis_url
        assert await asyncio.wait_for(serve(live, [a, _Leaves(), b]), 10) == 0
        assert a.got == [live] and b.got == [live] and a.cancelled and b.cancelled
        c = _Forever()
        with pytest.raises(RuntimeError, match="the adapter broke"):
            await asyncio.wait_for(serve(live, [c, _Breaks()]), 10)
        assert c.cancelled  # not left running beside a dead adapter


def test_the_adapters_do_not_import_the_start_up_and_the_cli_loads_nothing_heavy() -> None:
    """bot/app.py and bot/terminal/app.py imported each other; `sitter --help` builds
    the style list from cli/generate.py, which the bot image ships too."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import bot.terminal.app, bot.telegram.app, bot.discord.app\n"
        "assert 'bot.app' not in sys.modules, 'an adapter imports the start-up'\n"
        "from cli.main import build_parser\n"
        "build_parser().parse_args(['generate', '--photos', 'p', '--style', 's', '--out', 'o'])\n"
        "heavy = ('torch', 'diffusers', 'transformers', 'numpy', 'insightface', 'cv2')\n"
        "print(sorted(k for k in heavy if k in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_no_worker_is_started_where_the_engine_libraries_are_missing(
    data_dir, capsys, monkeypatch
) -> None:
    """The bot image ships engine/'s source without torch: say so instead of starting a
    worker that dies at its first import (and is restarted five times)."""
    from bot import local_worker
    from sitter.config import load_settings

    monkeypatch.setattr(local_worker, "ENGINE_LIBRARIES", ("torch", "no_such_engine_lib_7f3e"))
    assert local_worker.start_worker(load_settings(data_dir=data_dir)) is None
    err = capsys.readouterr().err
    assert "no_such_engine_lib_7f3e" in err and "sitter[engine]" in err and "torch" not in err
    assert not (data_dir / "worker.log").exists()
