"""Issue 13, item 17: a Redis outage is one warning when it starts and one line when it
ends (and a metrics counter), not a traceback per order per pass. A real redis-server
is started and killed for it."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from arq.connections import RedisSettings, create_pool
from prometheus_client import REGISTRY
from studio_harness import RecordingOutbox
from test_robust_orders import _placed_order

from bot.studio.core.core import Studio
from sitter import contract as c
from sitter.config import load_settings
from sitter.queue import EngineClient

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    end = time.monotonic() + 10
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.05)
    raise AssertionError("redis-server did not start")


def _outages() -> float:
    return REGISTRY.get_sample_value("sitter_outages_total", {"kind": "redis"}) or 0.0


async def test_redis_outage_logs_one_warning_and_one_line(
    data_dir: Path, queue_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = _free_port()
    server = _redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    settings = load_settings(data_dir=data_dir, redis_url=url, queue_prefix=queue_prefix)
    # No client-side retries (production rides out ~5 s of restart): each pass fails fast.
    redis = await create_pool(
        RedisSettings.from_dsn(url),
        job_serializer=c.serialize,
        job_deserializer=c.deserialize,
    )
    studio = await Studio.open(settings, EngineClient(redis, queue_prefix), tick_s=0.01)
    studio.add_outbox("terminal", RecordingOutbox())
    try:
        await _placed_order(studio)
        tracker = studio.tracker()
        await tracker.tick()
        before = _outages()
        server.kill()
        server.wait(5)
        caplog.clear()
        with caplog.at_level(logging.INFO):
            for _ in range(30):  # 30 passes over the order with Redis down
                await tracker.tick()
            down = list(caplog.records)
            server = _redis(port)
            caplog.clear()
            for _ in range(3):
                await tracker.tick()
            up = list(caplog.records)
        assert [r for r in down if r.exc_info] == []  # no traceback at all
        warnings = [r.getMessage() for r in down if r.levelno >= logging.WARNING]
        assert len(warnings) == 1 and "outage: Redis is unreachable" in warnings[0], warnings
        assert _outages() == before + 1
        over = [r.getMessage() for r in up if "outage over" in r.getMessage()]
        assert len(over) == 1 and "Redis is back after" in over[0]
    finally:
        await studio.aclose()
        await redis.aclose()
        server.kill()
        server.wait(5)


FULL = Path("/dev/full")


@pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full for a real 'no space left' error")
async def test_a_full_disk_stays_one_outage_until_a_write_works(
    data_dir: Path, queue_prefix: str, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Review 1, finding 5: a full disk refuses a portrait's write; passes that write
    nothing did end the outage ("back after 0s", three times over). Now the tracker
    probes the disk while the outage lasts: one warning, no end while the disk is full
    (real ENOSPC from /dev/full), one "back" line once a write works."""
    import errno
    from functools import partial

    from sitter.outage import probe_disk

    full = FULL

    def full_disk() -> None:
        with full.open("wb") as fh:  # what a full disk answers: ENOSPC
            fh.write(bytes(1 << 16))
            fh.flush()

    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    studio = await Studio.open(settings, tick_s=0.01)
    try:
        tracker = studio.tracker()
        tracker.disk_probe = full_disk
        with caplog.at_level(logging.INFO, logger="sitter.outage"):
            for n in range(12):
                if n % 2 == 0:  # a portrait's write every other pass, refused
                    try:
                        full_disk()
                    except OSError as exc:
                        assert exc.errno == errno.ENOSPC
                        assert studio.outages.failed(exc, "order 1")
                await tracker.tick()
            during = [r.getMessage() for r in caplog.records]
            tracker.disk_probe = partial(probe_disk, data_dir)  # space again
            await tracker.tick()
            await tracker.tick()
        lines = [r.getMessage() for r in caplog.records]
        assert not [m for m in during if "outage over" in m], during
        assert len([m for m in lines if "the disk refuses writes" in m]) == 1
        over = [m for m in lines if "outage over" in m]
        assert len(over) == 1 and "the disk is back" in over[0], lines
        assert not (data_dir / ".disk-probe").exists()
    finally:
        await studio.aclose()
