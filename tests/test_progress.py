"""Live progress (engine/progress.py) through a real worker on the tiny model and a real Redis,
read by the bot's side (sitter.queue.EngineClient.progress) while the job runs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from conftest import insightface_image
from identity_refs import reference_of
from PIL import Image

from engine import progress
from engine import worker as engine_worker
from engine.runtime import Runtime
from sitter import contract as c
from sitter.config import Settings, load_settings
from sitter.queue import EngineClient, connect

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("progress")


@pytest.fixture(scope="module")
def runtime(data: Path) -> Runtime:
    settings = load_settings(model="tiny", face_backend="dlib", data_dir=data)
    return Runtime(settings).load(("faces", "pipeline", "signer"))


@pytest.fixture
def settings(redis_url: str, queue_prefix: str, data: Path) -> Settings:
    return load_settings(
        model="tiny",
        face_backend="dlib",
        data_dir=data,
        redis_url=redis_url,
        queue_prefix=queue_prefix,
        poll_delay_s=0.01,
    )


@pytest.fixture
async def redis(redis_url: str, queue_prefix: str) -> AsyncIterator[ArqRedis]:
    pool = await connect(redis_url, queue_prefix)
    yield pool
    await pool.aclose()


def _request(runtime: Runtime, gid: str) -> c.GenerateRequest:
    image = Image.open(insightface_image("Tom_Hanks_54745.png"))
    return c.GenerateRequest(
        generation_id=gid,
        prompt="a studio portrait of a person",
        # 8 steps (the tiny model's most) at 128 px: long enough to watch on a CPU
        params=c.GenerationParams(steps=8, width=128, height=128),
        seeds=[1, 2, 3, 4],
        references=[reference_of(runtime.require_analyzer(), image)],
        max_attempts=2,  # random weights draw no face: every variation is rendered twice
    )


async def _watch(client: EngineClient, job_id: str, done: asyncio.Event) -> list[c.Progress]:
    seen: list[c.Progress] = []
    while not done.is_set():
        p = await client.progress(job_id)
        if p is not None and (not seen or p != seen[-1]):
            seen.append(p)
        await asyncio.sleep(0.005)
    return seen


async def test_progress_rises_while_the_worker_renders_and_is_gone_after(
    settings: Settings, runtime: Runtime, redis: ArqRedis
) -> None:
    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.01)
    job_id = "gen:progress-1"
    job = await client.enqueue(c.JOB_GENERATE, _request(runtime, "progress-1"), job_id=job_id)
    key = c.progress_key(settings.queue_prefix, job_id)
    raw_values: list[bytes] = []

    async def raw_watch(done: asyncio.Event) -> None:
        while not done.is_set():
            if (raw := await redis.get(key)) is not None:
                raw_values.append(raw)
                assert 0 < await redis.ttl(key) <= progress.TTL_S
            await asyncio.sleep(0.02)

    done = asyncio.Event()
    watcher = asyncio.create_task(_watch(client, job_id, done))
    raw_task = asyncio.create_task(raw_watch(done))
    w = engine_worker.build_worker(settings, c.QUEUE_GPU, runtime, burst=True)
    try:
        await w.async_run()
    finally:
        await w.close()
        done.set()
    seen = await watcher
    await raw_task
    assert w.jobs_complete == 1
    res = await client.result(c.JOB_GENERATE, job, timeout=5)
    assert isinstance(res, c.GenerateResult) and len(res.variations) == 4

    print(f"{len(seen)} progress values seen, {len(raw_values)} raw reads")
    assert len(seen) >= 4, seen
    order = [(p.attempt, p.step) for p in seen if p.stage == "render"]
    assert order == sorted(order)  # never backwards: attempt, then step within it
    assert {p.attempt for p in seen} == {1, 2}
    assert max(p.step for p in seen) == 8 and all(p.steps == 8 for p in seen if p.step)
    first = seen[0]
    assert first.variations == [1, 2, 3, 4] and first.of == 4
    # Privacy: counts only, nothing of the order or the person.
    for raw in raw_values:
        assert set(json.loads(raw)) <= set(c.Progress.model_fields)
        assert b"portrait" not in raw and b"progress-1" not in raw
    assert not await redis.exists(key)  # deleted when the job ended
    assert await client.progress(job_id) is None


async def test_a_dropped_job_leaves_no_progress(
    settings: Settings, runtime: Runtime, redis: ArqRedis
) -> None:
    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.01)
    job_id = "gen:progress-drop"
    req = _request(runtime, "progress-drop").model_copy(update={"max_attempts": 3})
    await client.enqueue(c.JOB_GENERATE, req, job_id=job_id)
    key = c.progress_key(settings.queue_prefix, job_id)
    w = engine_worker.build_worker(settings, c.QUEUE_GPU, runtime, burst=True)
    serving = asyncio.create_task(w.async_run())
    try:
        for _ in range(4000):
            if await client.progress(job_id) is not None:
                break
            await asyncio.sleep(0.005)
        else:
            pytest.fail("no progress seen")
        await client.drop([job_id])  # the bot drops it mid-render (a cancel, /forget)
        await asyncio.wait_for(serving, 120)  # the worker stops at its next step
    finally:
        await w.close()
    assert not await redis.exists(key)
    assert (await client.state(c.JOB_GENERATE, job_id)).status == "missing"


async def test_outside_a_worker_reporting_costs_nothing() -> None:
    assert progress.current() is None
    progress.begin("render", [1], 1)
    progress.step(1, 4)
    progress.finished(1)
    assert progress.start({}) == (None, None)


async def test_the_reporter_writes_the_newest_value_and_nothing_after_close(
    redis: ArqRedis, queue_prefix: str
) -> None:
    key = c.progress_key(queue_prefix, "unit")
    reporter = progress.Reporter(redis, key, asyncio.get_running_loop())

    def thread_work() -> None:
        for i in range(1, 51):
            reporter.update(step=i, steps=50)

    await asyncio.to_thread(thread_work)
    for _ in range(200):
        raw = await redis.get(key)
        if raw is not None and json.loads(raw)["step"] == 50:
            break
        await asyncio.sleep(0.01)
    assert json.loads(await redis.get(key))["step"] == 50
    assert 1 <= reporter.writes <= 50  # coalesced: one in flight, the newest wins
    await reporter.close()
    reporter.update(step=1)  # too late: a thread still running after the job ended
    await asyncio.sleep(0.05)
    assert not await redis.exists(key)
