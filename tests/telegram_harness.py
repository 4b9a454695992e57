"""Wiring for the end-to-end Telegram tests: emulator + real PTB bot + real Studio + worker.

- :func:`start_worker` runs the real engine worker (``sitter worker``) as a
  process with the tiny model and dlib's face models, on the real Redis;
- :class:`BotProcess` is the bot side in this process: the real Studio over a
  SQLite file (``Studio.open``), its background tracker and the PTB adapter
  polling the emulator. ``restart()`` drops all of it and opens it again over
  the same database and Redis, as a restarted bot process would.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageEnhance, ImageOps
from telegram_api import BotApiEmulator

from bot.studio.core.core import Studio
from bot.telegram.app import TelegramAdapter
from bot.telegram.settings import TelegramSettings
from sitter import contract as c
from sitter.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def photo_set() -> list[bytes]:
    """Three different photos of one person (scikit-image's astronaut, CC0), as JPEG."""
    from skimage import data

    # The top of the picture: the mission patch lower down reads as a second face. Each
    # framed differently: the same picture mirrored or re-sized counts once.
    full = Image.fromarray(data.astronaut())
    base = full.crop((40, 0, 440, 310))
    variants = [
        base,
        ImageOps.mirror(full.crop((0, 0, 470, 330))),
        ImageEnhance.Brightness(full.crop((20, 0, 380, 360))).enhance(1.15),
    ]
    out = []
    for im in variants:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def no_face_photo() -> bytes:
    from skimage import data

    buf = io.BytesIO()
    Image.fromarray(data.coffee()).save(buf, "JPEG", quality=90)
    return buf.getvalue()


@functools.cache
def real_engine_available() -> bool:
    """True once the engine's worker and photo analysis are in the tree and import.

    Until then the core's stand-in worker (tests/studio_engine.py: real dlib
    analysis, no diffusion) serves the photo checks. SITTER_TEST_ENGINE=stand-in
    forces the stand-in for everything.
    """
    if os.environ.get("SITTER_TEST_ENGINE", "auto") == "stand-in":
        return False
    if not all((ROOT / "engine" / f).is_file() for f in ("worker.py", "analysis.py")):
        return False
    probe = subprocess.run(
        [sys.executable, "-c", "import engine.analysis, engine.worker"],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    return probe.returncode == 0


def engine_env(redis_url: str, prefix: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITTER_")}
    env.update(
        SITTER_REDIS_URL=redis_url,
        SITTER_QUEUE_PREFIX=prefix,
        SITTER_DATA_DIR=str(data_dir),
        SITTER_MODEL=os.environ.get("STUDIO_TEST_MODEL", "tiny"),  # or tiny-klein
        SITTER_FACE_BACKEND="dlib",
        SITTER_POLL_DELAY_S="0.02",
        SITTER_LOG_LEVEL="WARNING",
    )
    return env


def start_worker(
    redis_url: str, prefix: str, data_dir: Path, log_path: Path, timeout: float = 120.0
) -> list[subprocess.Popen[bytes]]:
    """Start the engine and wait until both queues have a live worker.

    ``sitter worker`` (tiny model, dlib) serves both queues once the engine has its
    photo analysis; until then it serves the gpu queue (generate, upscale) and the
    core's stand-in (tests/studio_engine.py) the fast one (analysis, set check, label).
    """
    from redis import Redis

    env = engine_env(redis_url, prefix, data_dir)
    real = [sys.executable, "-m", "cli", "worker"]
    stand_in = [sys.executable, str(ROOT / "tests" / "studio_engine.py")]
    if real_engine_available():
        commands = [(real, env)]
    else:
        commands = [(stand_in, {**env, "STUDIO_ENGINE_QUEUES": "fast"})]
        if os.environ.get("SITTER_TEST_ENGINE") != "stand-in":
            commands.append(([*real, "--queues", "gpu"], env))
        else:
            commands = [(stand_in, env)]
    procs = []
    with log_path.open("wb") as log:
        for cmd, cmd_env in commands:
            procs.append(
                subprocess.Popen(cmd, cwd=ROOT, env=cmd_env, stdout=log, stderr=subprocess.STDOUT)
            )
    keys = [c.queue_name(prefix, q) + ":health-check" for q in (c.QUEUE_FAST, c.QUEUE_GPU)]
    deadline = time.monotonic() + timeout
    with Redis.from_url(redis_url) as redis:
        while not all(redis.exists(k) for k in keys):
            if any(p.poll() is not None for p in procs):
                stop_worker(procs)
                raise RuntimeError(f"a worker exited:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                stop_worker(procs)
                raise TimeoutError(f"no worker after {timeout} s:\n{log_path.read_text()}")
            time.sleep(0.2)
    return procs


def stop_worker(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def drop_keys(redis_url: str, prefix: str) -> None:
    """Remove this run's queue keys (the db is not flushed: others may share it)."""
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        keys = [k async for k in redis.scan_iter(f"{prefix}*")]
        keys += [k async for k in redis.scan_iter(f"arq:*{prefix}*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


class BotProcess:
    """The bot side: Studio + tracker + PTB adapter, startable and stoppable."""

    def __init__(self, settings: Settings, api: BotApiEmulator, engine: Any = None) -> None:
        self.settings = settings
        self.api = api
        self.engine = engine  # None: the queue on Redis; else (tests/fake_engine.py) in memory
        self.studio: Studio | None = None
        self.adapter: TelegramAdapter | None = None
        self._tracker: asyncio.Task[None] | None = None

    async def start(self) -> BotProcess:
        self.studio = await Studio.open(self.settings, engine=self.engine, tick_s=0.1)
        # Scripted users click far faster than people: a looser per-chat pace keeps the
        # tests short (the 1 message/s pacing has its own test in test_telegram_adapter).
        self.adapter = TelegramAdapter(
            self.studio,
            self.settings,
            album_window_s=0.4,
            poll_timeout_s=1,
            chat_rate=20,
            telegram=TelegramSettings(token=self.api.token, api_url=self.api.url),
        )
        await self.adapter.start()
        self._tracker = asyncio.create_task(self.studio.run_background())
        return self

    async def stop(self) -> None:
        if self._tracker is not None:
            self._tracker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tracker
        if self.adapter is not None:
            await self.adapter.stop()
        if self.studio is not None:
            await self.studio.aclose()
        self.studio, self.adapter, self._tracker = None, None, None

    async def restart(self) -> None:
        await self.stop()
        await self.start()
