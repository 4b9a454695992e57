"""Review 1, finding 1: a job is handed back only when the worker that claimed it is
gone. A slow job on a live worker, and a job of a worker that writes no heartbeat at
all (an older engine), run once; a killed worker's job goes back at once. Real Redis,
real arq workers (in this process and as processes), the studio's real tracker."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from arq.constants import in_progress_key_prefix
from arq.worker import Worker, func
from redis.asyncio import Redis
from studio_harness import open_studio, start_engine, stop
from test_robust_orders import WHO, _placed_order, _status

from bot.studio.core.core import Studio
from bot.studio.core.events import Command
from sitter import contract as c
from sitter.heartbeat import Heartbeat, Reclaimer, claim_key, worker_key
from sitter.queue import redis_settings

pytestmark = pytest.mark.studio_db  # redis_url: the studio tests' own db

BEAT_S = 0.2  # a worker expires after three missed beats: 0.6 s


@pytest.fixture
async def studio(redis_url: str, queue_prefix: str, data_dir: Path) -> Any:
    s = await open_studio(data_dir, redis_url, queue_prefix)
    s.settings = s.settings.model_copy(update={"worker_heartbeat_s": BEAT_S})
    yield s
    await s.aclose()


def _handed_back(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "handed back" in r.getMessage()]


async def test_a_live_workers_slow_order_is_never_handed_back(
    studio: Studio,
    redis_url: str,
    queue_prefix: str,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A worker process (heartbeat every 0.2 s) paints an order for 2.5 s, four times
    its heartbeat's lifetime, while the tracker follows it: it is painted once, never
    handed back, and /status says it is being painted (never that its worker stopped)."""
    caplog.set_level(logging.WARNING)
    env = {"SITTER_WORKER_HEARTBEAT_S": str(BEAT_S), "STUDIO_ENGINE_JOB_TIMEOUT": "60"}
    engine = start_engine(redis_url, queue_prefix, data_dir / "e", delay=2.5, extra_env=env)
    try:
        oid = await _placed_order(studio)
        tracker = studio.tracker()
        started = time.monotonic()
        said: list[str] = []  # what /status said while the job ran
        asked: list[str] = []  # everything /status said
        tries: set[bytes] = set()  # arq counts each run of the job in arq:retry:<id>
        job_id = (await studio.store.order(oid))["job_id"]
        while (await studio.store.order(oid))["status"] not in ("done", "delivered"):
            assert time.monotonic() - started < 60, "the order never finished"
            await tracker.tick()
            if (await studio.store.order(oid))["status"] == "running":
                [status] = await studio.handle(Command(WHO, "status"))
                asked.append(status.text)
                # Still running after /status, so running while it was asked (a job is
                # never handed back here: checked below). One that finished in between
                # is rightly "finishing up".
                if (await studio.engine.state(c.JOB_GENERATE, job_id)).status == "running":
                    said.append(status.text)
            tries.add(await studio.engine.redis.get(f"arq:retry:{job_id}") or b"")
            await asyncio.sleep(0.05)
        assert time.monotonic() - started > 3 * BEAT_S * 3  # it ran well past the TTL
    finally:
        stop(engine)
    assert not _handed_back(caplog)
    assert said and all("being painted" in t for t in said), set(said)
    assert not any("stopped" in t for t in asked)
    assert tries <= {b"", b"1"}, tries  # run once (a second run counts 2)


async def test_a_job_of_a_worker_without_heartbeats_is_never_handed_back(
    redis_url: str, queue_prefix: str
) -> None:
    """An older engine (a plain arq worker: no heartbeat, no claims) runs a job for
    three heartbeat lifetimes while a newer worker beats on another queue: the job is
    not taken from it and runs exactly once (it ran twice: job_try 1 and 2)."""
    runs: list[int] = []
    started = asyncio.Event()

    async def slow(ctx: dict[str, Any]) -> str:
        runs.append(ctx["job_try"])
        started.set()
        await asyncio.sleep(6 * BEAT_S)
        return "ok"

    redis = Redis.from_url(redis_url)
    queue = c.queue_name(queue_prefix, c.QUEUE_GPU)
    opts: dict[str, Any] = {
        "functions": [func(slow, name="slow")],
        "queue_name": queue,
        "redis_settings": redis_settings(redis_url),
        "poll_delay": 0.01,
        "handle_signals": False,
        "burst": True,
    }
    newer = Heartbeat(redis, queue_prefix, [c.QUEUE_FAST], BEAT_S)
    await newer.serving()  # the "workers seen" record is not empty any more
    newer.start()
    old = Worker(**opts)
    try:
        from arq import create_pool

        pool = await create_pool(redis_settings(redis_url))
        job = await pool.enqueue_job("slow", _queue_name=queue)
        assert job is not None
        running = asyncio.create_task(old.async_run())
        reclaimer = Reclaimer(redis, queue_prefix)
        await asyncio.wait_for(started.wait(), 10)
        handed = []
        while not running.done():
            handed.append(await reclaimer.check(job.job_id))
            await asyncio.sleep(BEAT_S / 2)
        assert len(handed) > 6 and not any(handed)
        second = Worker(**opts)  # a second worker would pick up a handed-back job
        await second.main()
        await second.close()
        assert runs == [1]
        await pool.aclose()
    finally:
        await old.close()
        await newer.stop()
        await redis.aclose()


async def test_a_gone_workers_claim_is_handed_back_once(redis_url: str, queue_prefix: str) -> None:
    """A claim naming a worker whose key expired: the first check hands the job back
    (in-progress key and claim gone); a second bot checking too does nothing more. A
    claim naming a live worker is left alone however long it stays."""
    redis = Redis.from_url(redis_url)
    try:
        live = Heartbeat(redis, queue_prefix, [c.QUEUE_GPU], BEAT_S)
        await live.serving()
        gone = Heartbeat(redis, queue_prefix, [c.QUEUE_GPU], BEAT_S)
        await gone.serving()
        for job, who in (("J-live", live), ("J-gone", gone)):
            await redis.set(in_progress_key_prefix + job, b"1", px=60_000)
            await who.claim(job)
        await redis.delete(worker_key(queue_prefix, gone.id))  # as if it expired
        one, two = Reclaimer(redis, queue_prefix), Reclaimer(redis, queue_prefix)
        assert await one.check("J-gone") and not await two.check("J-gone")
        assert not await redis.exists(in_progress_key_prefix + "J-gone")
        assert not await redis.exists(claim_key(queue_prefix, "J-gone"))
        for _ in range(3):
            await live.beat()
            assert not await one.check("J-live")
        assert await redis.exists(in_progress_key_prefix + "J-live")
        await live.release("J-live")
        assert not await redis.exists(claim_key(queue_prefix, "J-live"))
    finally:
        await redis.aclose()


async def test_killed_worker_is_reported_then_handed_back_promptly(
    studio: Studio, redis_url: str, queue_prefix: str, data_dir: Path
) -> None:
    """kill -9 the worker painting an order: once its heartbeat has expired (0.6 s)
    /status says its worker stopped (not "being painted"), and the next tracker pass
    hands the job back, so a fresh worker delivers it long before the job timeout."""
    env = {"SITTER_WORKER_HEARTBEAT_S": str(BEAT_S), "STUDIO_ENGINE_JOB_TIMEOUT": "60"}
    slow = start_engine(redis_url, queue_prefix, data_dir / "e1", delay=120, extra_env=env)
    try:
        oid = await _placed_order(studio)
        tracker = studio.tracker()
        for _ in range(500):
            if await _status(studio, oid, "running"):
                break
            await tracker.tick()
            await asyncio.sleep(0.02)
        os.kill(slow.pid, signal.SIGKILL)
        slow.wait(10)
        killed = time.monotonic()
        redis = studio.engine.redis
        while [k async for k in redis.scan_iter(match=worker_key(queue_prefix, "*"))]:
            assert time.monotonic() - killed < 5
            await asyncio.sleep(0.05)
        [status] = await studio.handle(Command(WHO, "status"))
        assert "its engine worker stopped" in status.text, status.text
        order = await studio.store.order(oid)
        assert await studio.engine.reclaim(order["job_id"])  # at once, no grace period
        fresh = start_engine(redis_url, queue_prefix, data_dir / "e2", extra_env=env)
        try:
            for _ in range(1500):
                if (await studio.store.order(oid))["status"] in ("done", "delivered"):
                    break
                await tracker.tick()
                await asyncio.sleep(0.02)
        finally:
            stop(fresh)
        assert time.monotonic() - killed < 30
        assert (await studio.store.order(oid))["status"] in ("done", "delivered")
    finally:
        stop(slow, kill=True)
