"""``sitter run``, ``sitter bot`` and ``sitter chat``: one start-up path.

:func:`services` opens, in order, and closes in reverse: Redis (the one at
SITTER_REDIS_URL or, for ``run`` and ``chat``, a private one under the data folder,
saying so), an engine worker process (``run`` and ``chat`` unless ``--no-worker``;
bot/local_worker.py), the queue connection with its engine client, and the studio
core with its store (database and media folder). :func:`serve` runs the core's
background loop and the adapters, each as ``await adapter.run(services)``
(bot/adapter.py). ``sitter run`` runs the adapters whose tokens are set (Telegram,
Discord), or the terminal chat when none is; ``sitter bot`` only the adapters,
against workers and a Redis that run elsewhere; ``sitter chat`` the terminal.
Nothing here is a module global.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot.adapter import Adapter, Services
from bot.local_worker import WorkerKeeper, kept_worker, say
from bot.platforms import PLATFORMS, configured
from sitter.config import ConfigError, Settings

__all__ = ["Adapter", "Services", "WorkerKeeper", "serve", "services", "until_stopped"]

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def services(
    settings: Settings, *, worker: bool = True, local_redis: bool = True
) -> AsyncIterator[Services]:
    """Everything the adapters need, open for as long as the block runs."""
    from bot.studio.core.core import Studio
    from sitter.queue import EngineClient, connect

    # `sitter run` / `sitter chat` ask the engine whether a worker would start before they
    # come here (cli/start.py): the bot itself knows nothing of the engine.
    async with contextlib.AsyncExitStack() as stack:
        settings = await stack.enter_async_context(_redis(settings, local_redis))
        if worker:
            await stack.enter_async_context(kept_worker(settings))
        redis = await connect(settings.redis_url, settings.queue_prefix)
        stack.push_async_callback(redis.aclose)
        engine = EngineClient(redis, settings.queue_prefix, poll_delay=settings.poll_delay_s)
        studio = await Studio.open(settings, engine=engine)
        stack.push_async_callback(studio.aclose)
        yield Services(settings, studio)


@contextlib.asynccontextmanager
async def _redis(settings: Settings, local: bool) -> AsyncIterator[Settings]:
    """The settings with a Redis that answers: found, or (``local``) started here."""
    from sitter.localredis import RedisKeeper, ensure_redis
    from sitter.queue import ping, redact

    if not local:
        if not await ping(settings.redis_url):
            raise ConfigError(
                f"No Redis answers at SITTER_REDIS_URL={redact(settings.redis_url)}. Start "
                "one, fix the URL, or use `sitter run`, which starts a local Redis by itself."
            )
        yield settings
        return
    url, server = await ensure_redis(settings.redis_url, settings.data_dir / "redis")
    if server is None:
        yield settings
        return
    say(
        f"no Redis answered at {redact(settings.redis_url)}; started a local one "
        f"({settings.data_dir / 'redis'}), it stops when Sitter stops."
    )
    keeper = RedisKeeper(server, say)
    watch = asyncio.create_task(keeper.watch(), name="local redis keeper")
    try:
        yield settings.model_copy(update={"redis_url": url})
    finally:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
        server.stop()


async def serve(live: Services, adapters: Sequence[Adapter]) -> int:
    """Run the core's background loop and every adapter until one ends (the terminal:
    the person left) or fails (then the others are stopped and the error raised)."""
    background = asyncio.create_task(live.studio.run_background(), name="studio background")
    for a in adapters:
        say(f"{a.name} starting.")
    tasks = [asyncio.create_task(a.run(live), name=f"adapter {a.name}") for a in adapters]
    try:
        done, _ = await asyncio.wait([*tasks, background], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if exc is not None:
                rejected = _rejected_token(exc)
                if rejected is not None:
                    raise ConfigError(rejected) from None  # said without the token
                raise exc
        if background in done:
            raise RuntimeError("the studio's background loop ended on its own")
    finally:
        for task in [*tasks, background]:
            task.cancel()
        for result in await asyncio.gather(*tasks, background, return_exceptions=True):
            if isinstance(result, Exception):
                log.warning("while stopping: %r", result)
    return 0


async def run_studio(
    settings: Settings, adapters: Sequence[Adapter], *, worker: bool, local_redis: bool
) -> int:
    async with services(settings, worker=worker, local_redis=local_redis) as live:
        return await serve(live, adapters)


def chat_adapters(*, sync_commands: bool = False) -> list[Adapter]:
    """The adapters whose tokens are set (imported only then: each loads its library)."""
    return [p.build(sync_commands) for p in configured()]


def _rejected_token(exc: BaseException) -> str | None:
    """A plain message when a platform refused its token (PTB's own names the token)."""
    name = type(exc).__name__
    return next((p.rejected[1] for p in PLATFORMS if p.rejected[0] == name), None)


async def until_stopped(main: Coroutine[Any, Any, int]) -> int:
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


def terminal_logging(settings: Settings) -> Path:
    """The terminal studio's screen is the chat: log lines (a worker's "cannot reach
    Redis", a retry) go to a file in the data folder, never between the messages."""
    from sitter.observability import configure_logging

    path = settings.data_dir / "sitter.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    stream = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 (the process's)
    configure_logging(settings, stream=stream)
    return path


def _terminal(out_dir: Path) -> Adapter:
    from bot.terminal.app import TerminalChat

    return TerminalChat(out_dir)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """``sitter run [--no-worker]``."""
    observe(settings)
    adapters = chat_adapters()
    if not adapters:
        say("no chat token set: the studio in this terminal.")
        say(f"log lines go to {terminal_logging(settings)}")
        adapters = [_terminal(settings.data_dir / "out")]
    main = run_studio(settings, adapters, worker=not args.no_worker, local_redis=True)
    return asyncio.run(until_stopped(main))


def cmd_bot(args: argparse.Namespace, settings: Settings) -> int:
    """``sitter bot``: the adapters only; Redis and workers run elsewhere."""
    observe(settings)
    if not configured():
        raise ConfigError(
            "`sitter bot` needs a chat token.\n  "
            + "\n  ".join(p.token_help for p in PLATFORMS)
            + "\nOr try `sitter chat` in this terminal."
        )
    adapters = chat_adapters(sync_commands=bool(args.sync))
    main = run_studio(settings, adapters, worker=False, local_redis=False)
    return asyncio.run(until_stopped(main))


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """``sitter chat [--out DIR] [--no-worker]``: the terminal, no chat token needed."""
    terminal_logging(settings)  # the screen is the chat: log lines go to a file
    out_dir = Path(args.out) if args.out else settings.data_dir / "out"
    worker = not args.no_worker
    main = run_studio(settings, [_terminal(out_dir)], worker=worker, local_redis=True)
    return asyncio.run(until_stopped(main))
