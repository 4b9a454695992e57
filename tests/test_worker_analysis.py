"""Photo analysis and set checks through the real worker's fast queue (dlib faces)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker
from conftest import insightface_image
from PIL import Image, ImageOps

from engine import worker as engine_worker
from engine.runtime import Runtime
from sitter import contract as c
from sitter.config import Settings, load_settings
from sitter.queue import EngineClient, connect

pytest.importorskip("engine.analysis", reason="engine/analysis.py is not in the tree")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    settings = load_settings(face_backend="dlib", data_dir=tmp_path_factory.mktemp("data"))
    return Runtime(settings).load(("faces", "signer"))  # the fast queue needs no pipeline


@pytest.fixture
def settings(redis_url: str, queue_prefix: str, tmp_path: Path) -> Settings:
    return load_settings(
        face_backend="dlib",
        data_dir=tmp_path,
        redis_url=redis_url,
        queue_prefix=queue_prefix,
        poll_delay_s=0.01,
    )


@pytest.fixture
async def client(redis_url: str, queue_prefix: str) -> AsyncIterator[EngineClient]:
    pool: ArqRedis = await connect(redis_url, queue_prefix)
    yield EngineClient(pool, queue_prefix, poll_delay=0.01)
    await pool.aclose()


async def burst(settings: Settings, runtime: Runtime) -> Worker:
    w = engine_worker.build_worker(settings, c.QUEUE_FAST, runtime, burst=True)
    try:
        await w.async_run()
    finally:
        await w.close()
    return w


def _jpeg(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut()).crop((80, 0, 400, 320))  # one face


async def test_photos_get_verdicts_through_the_fast_queue(
    settings: Settings, runtime: Runtime, client: EngineClient
) -> None:
    group = insightface_image("t1.jpg").read_bytes()
    jobs = {
        "ok": await client.enqueue(c.JOB_ANALYZE, c.AnalyzePhotoRequest(photo=_jpeg(_astronaut()))),
        "group": await client.enqueue(c.JOB_ANALYZE, c.AnalyzePhotoRequest(photo=group)),
        "junk": await client.enqueue(c.JOB_ANALYZE, c.AnalyzePhotoRequest(photo=b"not a photo")),
    }
    w = await burst(settings, runtime)
    assert (w.jobs_complete, w.jobs_failed) == (3, 0)
    ok = await client.result(c.JOB_ANALYZE, jobs["ok"], timeout=5)
    assert isinstance(ok, c.AnalyzePhotoResult) and ok.accepted and ok.face_count == 1
    assert ok.embedding is not None and ok.embedding.backend == "dlib"
    group_res = await client.result(c.JOB_ANALYZE, jobs["group"], timeout=5)
    assert isinstance(group_res, c.AnalyzePhotoResult) and not group_res.accepted
    assert c.PhotoProblem.SEVERAL_FACES in {i.problem for i in group_res.issues}
    assert group_res.face_count >= 4
    junk = await client.result(c.JOB_ANALYZE, jobs["junk"], timeout=5)
    assert isinstance(junk, c.AnalyzePhotoResult) and not junk.accepted
    assert junk.issues[0].problem == c.PhotoProblem.UNREADABLE

    # The accepted embedding works as a generation reference: the set check sees one person.
    mirrored = await client.enqueue(
        c.JOB_ANALYZE, c.AnalyzePhotoRequest(photo=_jpeg(ImageOps.mirror(_astronaut())))
    )
    await burst(settings, runtime)
    second = await client.result(c.JOB_ANALYZE, mirrored, timeout=5)
    assert isinstance(second, c.AnalyzePhotoResult) and second.embedding is not None
    check = await client.enqueue(
        c.JOB_CHECK_SET, c.CheckSetRequest(embeddings=[ok.embedding, second.embedding])
    )
    await burst(settings, runtime)
    res = await client.result(c.JOB_CHECK_SET, check, timeout=5)
    assert isinstance(res, c.CheckSetResult) and res.outliers == []
