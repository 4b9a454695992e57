"""A personal model's training on the real queue (issue 23): arq, Redis, tiny klein.

- an order submitted while a training runs starts within one training step (the
  training yields between steps while the gpu queue has jobs; shared mode);
- a dropped training stops and leaves no checkpoint in Redis; a finished one neither;
- kill -9 of a real ``sitter worker`` process mid-training: the job, handed back to
  the queue, resumes in a new worker from the last checkpoint (its step proves it).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from conftest import insightface_image
from identity_refs import reference_of
from PIL import Image

from engine import worker as engine_worker
from engine.runtime import Runtime
from sitter import contract as c
from sitter.config import Settings, load_settings
from sitter.queue import EngineClient, connect

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("train-queue")


@pytest.fixture(scope="module")
def runtime(data: Path) -> Runtime:
    settings = load_settings(model="tiny-klein", face_backend="dlib", data_dir=data)
    return Runtime(settings).load(("faces", "pipeline", "signer"))


@pytest.fixture
def settings(redis_url: str, queue_prefix: str, data: Path) -> Settings:
    return load_settings(
        model="tiny-klein",
        face_backend="dlib",
        data_dir=data,
        redis_url=redis_url,
        queue_prefix=queue_prefix,
        poll_delay_s=0.01,
        train_checkpoint_every=5,
    )


@pytest.fixture
async def redis(redis_url: str, queue_prefix: str) -> AsyncIterator[ArqRedis]:
    pool = await connect(redis_url, queue_prefix)
    yield pool
    await pool.aclose()


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def _train(train_id: str, steps: int) -> c.TrainRequest:
    image = Image.open(insightface_image("Tom_Hanks_54745.png"))
    return c.TrainRequest(train_id=train_id, photos=[c.TrainPhoto(image=_png(image))], steps=steps)


async def _step(client: EngineClient, job_id: str) -> int:
    p = await client.progress(job_id)
    return p.step if p is not None and p.stage == "train" else -1


async def _until_step(client: EngineClient, job_id: str, step: int, timeout: float) -> int:
    end = time.monotonic() + timeout
    while (now := await _step(client, job_id)) < step:
        assert time.monotonic() < end, f"training never reached step {step} (at {now})"
        await asyncio.sleep(0.01)
    return now


async def _checkpoint_step(redis: ArqRedis, prefix: str, job_id: str) -> int | None:
    raw = await redis.hget(c.train_checkpoint_key(prefix, job_id), "state")
    return None if raw is None else int(json.loads(raw)["step"])


async def test_an_order_waits_one_step_and_a_dropped_training_leaves_nothing(
    settings: Settings, runtime: Runtime, redis: ArqRedis
) -> None:
    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.01)
    prefix = settings.queue_prefix
    stop = asyncio.Event()
    serving = asyncio.create_task(
        engine_worker.run_workers(
            settings, (c.QUEUE_GPU, c.QUEUE_TRAIN), runtime=runtime, stop=stop, grace_s=5
        )
    )
    try:
        long = await client.enqueue(c.JOB_TRAIN, _train("long", 2000), job_id="train:long")
        await _until_step(client, long.job_id, 7, timeout=60)
        assert await _checkpoint_step(redis, prefix, long.job_id) == 5

        # An order now: it starts within one training step (the one in flight), and the
        # training stays paused while it renders.
        image = Image.open(insightface_image("Tom_Hanks_54745.png"))
        order = c.GenerateRequest(
            generation_id="o1",
            prompt="a portrait",
            reference_prompt="the person in the reference images, a portrait",
            seeds=[1, 2],
            references=[reference_of(runtime.require_analyzer(), image)],
            max_attempts=1,
        )
        before = await _step(client, long.job_id)
        res = await client.call(c.JOB_GENERATE, order, job_id="gen:o1", timeout=60)
        after = await _step(client, long.job_id)
        assert isinstance(res, c.GenerateResult), res
        # +1: the step in flight when the order came; +1: progress is written after a step
        assert after - before <= 2, (before, after)
        await _until_step(client, long.job_id, after + 3, timeout=30)  # it goes on after

        # Dropped while it trains: it stops, and no checkpoint is left (nor written after).
        await client.drop_training(long.job_id)
        end = time.monotonic() + 10
        while await redis.exists(c.progress_key(prefix, long.job_id)):
            assert time.monotonic() < end, "the dropped training did not stop"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        assert await _checkpoint_step(redis, prefix, long.job_id) is None

        # A finished training leaves no checkpoint either.
        short = await client.enqueue(c.JOB_TRAIN, _train("short", 12), job_id="train:short")
        done = await client.result(c.JOB_TRAIN, short, timeout=60)
        assert isinstance(done, c.TrainResult), done
        assert (done.steps, done.resumed_from) == (12, 0)
        assert await _checkpoint_step(redis, prefix, short.job_id) is None
        keys = [k async for k in redis.scan_iter(match=c.train_checkpoint_key(prefix, "*"))]
        assert keys == []
    finally:
        stop.set()
        await asyncio.wait_for(serving, 30)


def _worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        SITTER_REDIS_URL=settings.redis_url,
        SITTER_QUEUE_PREFIX=settings.queue_prefix,
        SITTER_DATA_DIR=str(settings.data_dir),
        SITTER_MODEL="tiny-klein",
        SITTER_FACE_BACKEND="dlib",
        SITTER_POLL_DELAY_S="0.01",
        SITTER_WORKER_HEARTBEAT_S="0.5",
        SITTER_TRAIN_CHECKPOINT_EVERY="5",
        SITTER_WORKER_THREADS="1",
        PYTHONPATH=str(ROOT),
    )
    out = open(log, "ab")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "worker", "--queues", c.QUEUE_TRAIN],
        env=env,
        stdout=out,
        stderr=out,
        cwd=ROOT,
    )


async def test_a_killed_workers_training_resumes_from_its_last_checkpoint(
    settings: Settings, redis: ArqRedis, tmp_path: Path
) -> None:
    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.02)
    prefix = settings.queue_prefix
    log = tmp_path / "workers.log"
    first = _worker(settings, log)
    second = None
    try:
        job = await client.enqueue(c.JOB_TRAIN, _train("killed", 60), job_id="train:killed")
        await _until_step(client, job.job_id, 12, timeout=120)
        first.send_signal(signal.SIGKILL)  # kill -9: no cleanup, no goodbye
        first.wait(10)
        saved = await _checkpoint_step(redis, prefix, job.job_id)
        assert saved is not None and saved >= 10 and saved % 5 == 0, saved
        # Its heartbeat stops; the job is handed back to the queue (as the bot's tracker
        # does, sitter/heartbeat.py Reclaimer) and a new worker takes it.
        end = time.monotonic() + 20
        while not await client.reclaim(job.job_id):
            assert time.monotonic() < end, "the killed worker's job was never handed back"
            await asyncio.sleep(0.2)
        second = _worker(settings, log)
        res = await client.result(c.JOB_TRAIN, job, timeout=180)
        assert isinstance(res, c.TrainResult), (res, log.read_text()[-3000:])
        assert (res.steps, res.resumed_from) == (60, saved)
        assert await _checkpoint_step(redis, prefix, job.job_id) is None
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()


async def test_forget_drops_a_training_and_its_checkpoint(
    settings: Settings, redis: ArqRedis
) -> None:
    """/forget's ``drop_named`` reaches a training's checkpoint too, even one whose job
    key is already gone (a killed worker's, waiting for its TTL)."""
    from arq.constants import job_key_prefix
    from redis import Redis

    from engine.training.checkpoint import CheckpointStore
    from engine.training.loop import Checkpoint

    prefix = settings.queue_prefix
    client = EngineClient(redis, prefix, poll_delay=0.01)
    queued = await client.enqueue(c.JOB_TRAIN, _train("u7", 10), job_id=f"{prefix}-u7-train")
    sync = Redis.from_url(settings.redis_url)
    try:
        import torch

        ck = Checkpoint(5, {"lora::a": torch.ones(2)}, {"step": 5})
        store = CheckpointStore(sync, prefix, queued.job_id, "fp")
        assert store.save(ck) and store.load() is not None
        orphan = CheckpointStore(sync, prefix, f"{prefix}-u7-old", "fp")
        sync.set(job_key_prefix + f"{prefix}-u7-old", b"x")
        assert orphan.save(ck)
        sync.delete(job_key_prefix + f"{prefix}-u7-old")  # its job is gone, the key is not
        other = CheckpointStore(sync, prefix, "someone-else", "fp")
        assert not other.save(ck)  # no such job: nothing is written
        await client.drop_named([], f"{prefix}-u7-")
        left = [k async for k in redis.scan_iter(match=c.train_checkpoint_key(prefix, "*"))]
        assert left == []
        assert await redis.zcard(c.queue_name(prefix, c.QUEUE_TRAIN)) == 0
    finally:
        sync.close()


def test_the_train_mode_picks_a_workers_default_queues(tmp_path: Path) -> None:
    from engine.jobs import default_queues

    shared = load_settings(data_dir=tmp_path)
    assert shared.train_mode == "shared" and default_queues(shared) == "fast,gpu,train"
    dedicated = load_settings(data_dir=tmp_path, train_mode="dedicated")
    assert default_queues(dedicated) == "fast,gpu"  # trainers: sitter worker --queues train
