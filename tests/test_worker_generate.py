"""A real arq worker on the local Redis, driven through sitter.queue.EngineClient."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from arq.connections import ArqRedis
from arq.worker import Worker
from conftest import insightface_image
from identity_refs import reference_of
from PIL import Image

from engine import job_errors
from engine import worker as engine_worker
from engine.runtime import Runtime
from sitter import contract as c
from sitter.config import Settings, load_settings
from sitter.queue import EngineClient, connect

# Two cores shared by many processes: one torch thread is several times faster here.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


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


async def burst(settings: Settings, runtime: Runtime, queue: str = c.QUEUE_GPU) -> Worker:
    """Run one worker until its queue is empty."""
    w = engine_worker.build_worker(settings, queue, runtime, burst=True)
    try:
        await w.async_run()
    finally:
        await w.close()
    return w


def _reference(runtime: Runtime) -> c.Reference:
    image = Image.open(insightface_image("Tom_Hanks_54745.png"))
    return reference_of(runtime.require_analyzer(), image)


def _request(runtime: Runtime, gid: str, seeds: list[int]) -> c.GenerateRequest:
    return c.GenerateRequest(
        generation_id=gid,
        prompt="a studio portrait of a person",
        seeds=seeds,
        references=[_reference(runtime)],
        max_attempts=1,
    )


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGB")).astype(np.int16)


async def test_generate_through_the_queue(
    settings: Settings, runtime: Runtime, redis: ArqRedis
) -> None:
    from engine.provenance import verify

    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.01)
    seeds = [101, 202, 303, 404]
    first = await client.enqueue(c.JOB_GENERATE, _request(runtime, "g1", seeds), job_id="gen:g1")
    again = await client.enqueue(c.JOB_GENERATE, _request(runtime, "g1b", seeds), job_id="gen:g1b")
    alone = await client.enqueue(c.JOB_GENERATE, _request(runtime, "g2", [303]), job_id="gen:g2")
    w = await burst(settings, runtime)
    assert (w.jobs_complete, w.jobs_failed) == (3, 0)

    res = await client.result(c.JOB_GENERATE, first, timeout=5)
    assert isinstance(res, c.GenerateResult), res
    assert [v.seed for v in res.variations] == seeds
    assert res.model == "tiny" and res.device.startswith("cpu")
    for v in res.variations:
        assert _pixels(v.image).shape == (64, 64, 3)
        assert verify(v.image).ai_labelled  # IPTC XMP + text note + signed C2PA
        assert (v.face_found, v.likeness, v.passed, v.attempts) == (False, None, False, 1)

    # Same order and seeds -> the same pixels; one seed alone -> its image again.
    res2 = await client.result(c.JOB_GENERATE, again, timeout=5)
    assert isinstance(res2, c.GenerateResult)
    for a, b in zip(res.variations, res2.variations, strict=True):
        assert np.array_equal(_pixels(a.image), _pixels(b.image))
    res3 = await client.result(c.JOB_GENERATE, alone, timeout=5)
    assert isinstance(res3, c.GenerateResult)
    assert np.abs(_pixels(res3.variations[0].image) - _pixels(res.variations[2].image)).max() <= 2


async def test_bad_payloads_come_back_as_job_failures(
    settings: Settings, runtime: Runtime, redis: ArqRedis
) -> None:
    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.01)
    queue = c.queue_name(settings.queue_prefix, c.QUEUE_GPU)
    not_a_dict = await redis.enqueue_job(c.JOB_GENERATE, [1, 2], _queue_name=queue)
    missing = await redis.enqueue_job(c.JOB_GENERATE, {"prompt": "x"}, _queue_name=queue)
    wrong_backend = _request(runtime, "g-wrong", [1]).model_copy(
        update={
            "references": [
                c.Reference(embedding=c.Embedding(backend="insightface:buffalo_l", vector=[0.0]))
            ]
        }
    )
    mismatch = await client.enqueue(c.JOB_GENERATE, wrong_backend)
    good = _request(runtime, "g-nocrop", [1]).references[0]
    no_crop = _request(runtime, "g-nocrop", [1]).model_copy(
        update={"references": [good.model_copy(update={"face_crop": None})]}
    )
    cropless = await client.enqueue(c.JOB_GENERATE, no_crop)
    # The contract refuses a negative seed on the bot's side too; sent raw, the worker does.
    raw = _request(runtime, "g-neg", [5]).model_dump() | {"seeds": [-5]}
    negative = await redis.enqueue_job(c.JOB_GENERATE, raw, _queue_name=queue)
    w = await burst(settings, runtime)
    assert w.jobs_failed == 0  # refused as data, not crashed
    for job, code, words in [
        (not_a_dict, "bad_request", "expected a mapping"),
        (missing, "bad_request", "invalid request"),
        (mismatch, "identity_mismatch", "insightface:buffalo_l"),
        (cropless, "identity_mismatch", "no face crops"),  # never rendered without identity
        (negative, "bad_request", "seeds.0"),
    ]:
        assert job is not None
        res = await client.result(c.JOB_GENERATE, job, timeout=5)
        assert isinstance(res, c.JobFailure) and res.code == code and words in res.message


async def test_a_duplicate_job_id_runs_once(
    settings: Settings, runtime: Runtime, redis: ArqRedis
) -> None:
    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.01)
    req = _request(runtime, "g-dup", [7])
    one = await client.enqueue(c.JOB_GENERATE, req, job_id="gen:g-dup")
    two = await client.enqueue(c.JOB_GENERATE, req, job_id="gen:g-dup")
    w = await burst(settings, runtime)
    assert w.jobs_complete == 1
    three = await client.enqueue(c.JOB_GENERATE, req, job_id="gen:g-dup")  # result still kept
    w2 = await burst(settings, runtime)
    assert w2.jobs_complete == 0
    results = [await client.result(c.JOB_GENERATE, j, timeout=5) for j in (one, two, three)]
    assert all(isinstance(r, c.GenerateResult) for r in results)
    assert len({r.variations[0].image for r in results}) == 1  # one run, one signed file


async def test_model_still_loading_is_retried_then_refused(
    settings: Settings, runtime: Runtime, redis: ArqRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job_errors, "RETRY_BACKOFF_S", (0.05,))
    loading = Runtime(settings, analyzer=runtime.analyzer, signer=runtime.signer)
    loading._loading.add("pipeline")  # as while a background load is running
    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.01)
    job = await client.enqueue(c.JOB_GENERATE, _request(runtime, "g-wait", [1]))
    w = await burst(settings, loading)
    assert w.jobs_retried == engine_worker.MAX_TRIES - 1
    res = await client.result(c.JOB_GENERATE, job, timeout=5)
    assert isinstance(res, c.JobFailure) and res.code == "not_ready"


async def test_label_job_on_the_fast_queue(
    settings: Settings, runtime: Runtime, redis: ArqRedis
) -> None:
    from engine.provenance import verify

    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.01)
    gen = await client.enqueue(c.JOB_GENERATE, _request(runtime, "g-lab", [9]))
    await burst(settings, runtime)
    res = await client.result(c.JOB_GENERATE, gen, timeout=5)
    assert isinstance(res, c.GenerateResult)
    lab = await client.enqueue(c.JOB_LABEL, c.LabelRequest(image=res.variations[0].image))
    await burst(settings, runtime, c.QUEUE_FAST)
    labelled = await client.result(c.JOB_LABEL, lab, timeout=5)
    assert isinstance(labelled, c.LabelResult)
    report = verify(labelled.image)
    assert report.ai_labelled and report.seed == 9


async def test_upscale_job_keeps_the_provenance_chain(
    settings: Settings, runtime: Runtime, redis: ArqRedis
) -> None:
    from engine.provenance import verify

    if runtime.upscaler is None:
        runtime.load(("upscaler",))
    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.01)
    gen = await client.enqueue(c.JOB_GENERATE, _request(runtime, "g-up", [5]))
    await burst(settings, runtime)
    res = await client.result(c.JOB_GENERATE, gen, timeout=5)
    assert isinstance(res, c.GenerateResult)
    up = await client.enqueue(c.JOB_UPSCALE, c.UpscaleRequest(image=res.variations[0].image))
    await burst(settings, runtime)
    big = await client.result(c.JOB_UPSCALE, up, timeout=60)
    assert isinstance(big, c.UpscaleResult), big
    assert (big.width, big.height) == (256, 256) and big.method == runtime.upscaler.method
    report = verify(big.image)
    assert report.ai_labelled and report.seed == 5


async def test_gpu_out_of_memory_is_retried_with_backoff_then_refused(
    settings: Settings, runtime: Runtime, redis: ArqRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CUDA OOM cannot happen on a CPU box, so it is injected where torch would raise it."""
    import torch

    tries: list[int] = []

    def oom(rt: Runtime, req: c.GenerateRequest, cancel: object) -> c.Message:
        tries.append(1)
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setitem(engine_worker.WORK, c.JOB_GENERATE, oom)
    monkeypatch.setattr(job_errors, "RETRY_BACKOFF_S", (0.05,))
    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.01)
    job = await client.enqueue(c.JOB_GENERATE, _request(runtime, "g-oom", [1]))
    w = await burst(settings, runtime)
    assert len(tries) == engine_worker.MAX_TRIES and w.jobs_retried == engine_worker.MAX_TRIES - 1
    res = await client.result(c.JOB_GENERATE, job, timeout=5)
    assert isinstance(res, c.JobFailure) and res.code == "out_of_memory"


async def test_stop_lets_the_running_generation_finish(
    settings: Settings, runtime: Runtime, redis: ArqRedis
) -> None:
    import asyncio

    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.01)
    req = _request(runtime, "g-stop", [1, 2, 3, 4]).model_copy(update={"max_attempts": 2})
    job = await client.enqueue(c.JOB_GENERATE, req, job_id="gen:g-stop")
    stop = asyncio.Event()
    lost: list[dict[str, object]] = []  # what asyncio would log as "never retrieved"
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: lost.append(ctx))
    serving = asyncio.create_task(
        engine_worker.run_workers(settings, (c.QUEUE_GPU,), runtime=runtime, stop=stop, grace_s=60)
    )
    for _ in range(1000):
        if (await client.state(c.JOB_GENERATE, "gen:g-stop")).status == "running":
            break
        await asyncio.sleep(0.01)
    stop.set()  # as on SIGTERM, mid-generation
    (worker,) = await asyncio.wait_for(serving, 120)
    assert (worker.jobs_complete, worker.jobs_retried) == (1, 0)
    import gc

    gc.collect()
    assert not [x for x in lost if "never retrieved" in str(x.get("message"))], lost
    res = await client.result(c.JOB_GENERATE, job, timeout=5)
    assert isinstance(res, c.GenerateResult) and len(res.variations) == 4
