"""``sitter run`` and ``sitter bot``: start what is needed and the chat adapters.

``sitter run`` makes one machine work on its own: it uses the Redis at
SITTER_REDIS_URL or starts a private one under the data folder (saying so),
starts an engine worker process (``sitter worker``) unless ``--no-worker``,
then runs the adapters whose tokens are set (Telegram, Discord), or the
terminal chat when none is. ``sitter bot`` runs only the adapters, against
workers and a Redis that run elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

from sitter.config import ConfigError, Settings

log = logging.getLogger(__name__)


def say(text: str) -> None:
    print(f"sitter: {text}", file=sys.stderr, flush=True)


def start_worker(settings: Settings) -> subprocess.Popen | None:
    """An engine worker process serving this Redis; None when the engine isn't installed."""
    if importlib.util.find_spec("engine.worker") is None:
        say("the engine (engine/worker.py) is not installed here; start a worker elsewhere.")
        return None
    env = dict(os.environ, SITTER_REDIS_URL=settings.redis_url)
    log_path = settings.data_dir / "worker.log"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    out = open(log_path, "ab")  # noqa: SIM115 (handed to the child)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sitter.cli", "worker"], env=env, stdout=out, stderr=out
    )
    out.close()
    say(f"started an engine worker (pid {proc.pid}, model {settings.model}); log: {log_path}")
    return proc


def stop_worker(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@contextlib.asynccontextmanager
async def services(
    settings: Settings, worker: bool = True, local_redis: bool = True
) -> AsyncIterator[Settings]:
    """Redis (found or started) and optionally a worker; yields the settings to use."""
    from sitter.localredis import ensure_redis
    from sitter.queue import ping, redact

    if worker:
        # The worker would refuse this configuration at its start (exit 2) and only its log
        # would say why: refuse here, in the person's terminal, before anything starts.
        from engine.licences import enforce

        enforce(settings)
    local = None
    if local_redis:
        url, local = await ensure_redis(settings.redis_url, settings.data_dir / "redis")
        if local is not None:
            say(
                f"no Redis answered at {redact(settings.redis_url)}; started a local one "
                f"({settings.data_dir / 'redis'}), it stops when Sitter stops."
            )
            settings = settings.model_copy(update={"redis_url": url})
    elif not await ping(settings.redis_url):
        raise ConfigError(
            f"No Redis answers at SITTER_REDIS_URL={redact(settings.redis_url)}. Start one, "
            "fix the URL, or use `sitter run`, which starts a local Redis by itself."
        )
    keeper = WorkerKeeper(settings) if worker else None
    watch = asyncio.create_task(keeper.watch()) if keeper is not None else None
    try:
        yield settings
    finally:
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        if keeper is not None:
            stop_worker(keeper.proc)
        if local is not None:
            local.stop()


CONFIG_REFUSED = 2  # `sitter worker`'s exit code for a configuration it refuses (sitter/cli.py)


class WorkerKeeper:
    """The worker process `sitter run`/`sitter chat` started: started again when it dies
    (at most ``MAX_RESTARTS`` times, waiting longer each time), saying so."""

    MAX_RESTARTS = 5
    CHECK_S = 2.0

    def __init__(self, settings: Settings):
        self.settings = settings
        self.check_s = self.CHECK_S
        self.restarts = 0
        self.proc = start_worker(settings)

    async def watch(self) -> None:
        while self.proc is not None:
            await asyncio.sleep(self.check_s)
            code = self.proc.poll()
            if code is None:
                continue
            if code == CONFIG_REFUSED:
                say(
                    f"the engine worker refused its configuration (exit {code}), so it is not "
                    f"started again: {self._reason()}"
                )
                return
            if self.restarts >= self.MAX_RESTARTS:
                say(
                    f"the engine worker stopped again (exit {code}); not restarting it after "
                    f"{self.restarts} restarts. See {self.settings.data_dir / 'worker.log'}."
                )
                return
            self.restarts += 1
            say(f"the engine worker stopped (exit {code}); starting it again.")
            await asyncio.sleep(min(30.0, self.check_s * 2 ** (self.restarts - 1)))
            self.proc = start_worker(self.settings)

    def _reason(self) -> str:
        """The worker's own last words (its log), or where to find them."""
        log_file = self.settings.data_dir / "worker.log"
        try:
            lines = [ln for ln in log_file.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            lines = []
        return "\n  ".join(lines[-6:]) if lines else f"see {log_file}."


async def run_adapters(settings: Settings, *, sync_commands: bool = False) -> int:
    """Run every adapter whose token is set, with one studio core, until cancelled."""
    from bot.studio.core import Studio

    runners: list[Any] = []
    studio = await Studio.open(settings)
    try:
        if settings.telegram_token is not None:
            from bot.telegram.app import run_telegram

            runners.append(run_telegram(studio, settings))
            say("Telegram bot starting.")
        if settings.discord_token is not None:
            from bot.discord.app import run_discord

            runners.append(run_discord(settings, studio, studio.store, sync=sync_commands))
            say("Discord bot starting.")
        background = asyncio.create_task(studio.run_background())
        try:
            await asyncio.gather(*runners)
        except Exception as exc:
            rejected = _rejected_token(exc)
            if rejected is None:
                raise
            raise ConfigError(rejected) from None  # said without the token
        finally:
            background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await background
    finally:
        await studio.aclose()
    return 0


def _rejected_token(exc: BaseException) -> str | None:
    """A plain message when a platform refused its token (PTB's own names the token)."""
    name = type(exc).__name__
    if name == "InvalidToken":
        return (
            "Telegram rejected SITTER_TELEGRAM_TOKEN. Copy the token from @BotFather again "
            "(/mybots > your bot > API Token)."
        )
    if name == "LoginFailure":
        return (
            "Discord rejected SITTER_DISCORD_TOKEN. Reset it in the developer portal "
            "(Bot > Reset Token) and set it again."
        )
    return None


def _has_token(settings: Settings) -> bool:
    return settings.telegram_token is not None or settings.discord_token is not None


async def until_stopped(main: Any) -> int:
    """Run ``main``; SIGTERM/SIGINT/SIGHUP cancel it, so every ``finally`` runs (a
    clean stop: adapters close, the worker process is stopped, the local Redis saves)."""
    task = asyncio.ensure_future(main)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        say("stopped.")
        return 0


def observe(settings: Settings) -> None:
    """Logging (order ids on every line; JSON with SITTER_LOG_JSON) and metrics."""
    from sitter.observability import configure_logging, start_from_settings

    configure_logging(settings, stream=sys.stderr)
    start_from_settings(settings)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """``sitter run [--no-worker]``."""
    observe(settings)

    async def main() -> int:
        async with services(settings, worker=not args.no_worker) as live:
            if _has_token(live):
                return await run_adapters(live)
            say("no SITTER_TELEGRAM_TOKEN or SITTER_DISCORD_TOKEN set: the terminal studio.")
            from bot.terminal.app import chat

            logging.getLogger().setLevel(logging.WARNING)
            return await chat(live, live.data_dir / "out")

    return asyncio.run(until_stopped(main()))


def cmd_bot(args: argparse.Namespace, settings: Settings) -> int:
    """``sitter bot``: the adapters only; Redis and workers run elsewhere."""
    observe(settings)
    if not _has_token(settings):
        raise ConfigError(
            "`sitter bot` needs a chat token.\n  "
            + "\n  ".join(
                [
                    "SITTER_TELEGRAM_TOKEN: from @BotFather in Telegram (/newbot).",
                    "SITTER_DISCORD_TOKEN: from https://discord.com/developers/applications "
                    "(Bot > Reset Token).",
                ]
            )
            + "\nOr try `sitter chat` in this terminal."
        )

    async def main() -> int:
        async with services(settings, worker=False, local_redis=False) as live:
            return await run_adapters(live, sync_commands=bool(getattr(args, "sync", False)))

    return asyncio.run(until_stopped(main()))
