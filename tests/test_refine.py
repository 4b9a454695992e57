"""Vary and relight one delivered portrait (issue 15, items 4 and 5): the refine job
through a real arq worker on the local Redis, on the tiny SDXL and tiny FLUX.2 [klein]
models (and tiny SD 1.5), from a portrait the same worker generated.

The tiny models' VAEs are random: a round trip through one alone moves a 64 px image
by about 48/255 (SDXL) or 34/255 (klein) on average, whatever the strength. So the
strength is measured as the change beyond that round trip: against the same job, same
seed, at strength 0.02 (the portrait encoded and decoded, three small steps).
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from arq.connections import ArqRedis
from conftest import insightface_image
from identity_refs import made_up, png, reference_of
from PIL import Image

from engine import worker as engine_worker
from engine.pipeline import img2img
from engine.provenance import verify
from engine.runtime import Runtime
from sitter import contract as c
from sitter.config import Settings, load_settings
from sitter.queue import EngineClient, connect

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PROMPT = "a studio portrait of a person"
REFERENCE_PROMPT = "the person in the reference images in a studio portrait"
GOLDEN = "warm golden hour sunlight"  # prompts/wizard.toml's lighting presets
NEON = "colourful neon light"
SEEDS = [11, 12]
ROUND_TRIP = 0.02


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("refine")


@pytest.fixture(scope="module", params=["tiny", "tiny-sd15", "tiny-klein"])
def model(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def runtime(data: Path, model: str) -> Runtime:
    settings = load_settings(model=model, face_backend="dlib", data_dir=data)
    return Runtime(settings).load(("faces", "pipeline", "signer"))


@pytest.fixture
def settings(redis_url: str, queue_prefix: str, data: Path, model: str) -> Settings:
    return load_settings(
        model=model,
        face_backend="dlib",
        data_dir=data,
        redis_url=redis_url,
        queue_prefix=queue_prefix,
        poll_delay_s=0.01,
    )


@pytest.fixture
async def client(redis_url: str, queue_prefix: str) -> AsyncIterator[EngineClient]:
    pool: ArqRedis = await connect(redis_url, queue_prefix)
    yield EngineClient(pool, queue_prefix, poll_delay=0.01)
    await pool.aclose()


async def _burst(settings: Settings, runtime: Runtime) -> Any:
    w = engine_worker.build_worker(settings, c.QUEUE_GPU, runtime, burst=True)
    try:
        await w.async_run()
    finally:
        await w.close()
    return w


def _reference(runtime: Runtime) -> c.Reference:
    return reference_of(
        runtime.require_analyzer(), Image.open(insightface_image("Tom_Hanks_54745.png"))
    )


async def _portrait(settings: Settings, runtime: Runtime, client: EngineClient) -> bytes:
    """One portrait delivered by a generate job: labelled, signed, what the bot keeps."""
    req = c.GenerateRequest(
        generation_id="order-1",
        prompt=PROMPT,
        reference_prompt=REFERENCE_PROMPT,
        seeds=[5],
        references=[_reference(runtime)],
        max_attempts=1,
    )
    job = await client.enqueue(c.JOB_GENERATE, req)
    await _burst(settings, runtime)
    res = await client.result(c.JOB_GENERATE, job, timeout=5)
    assert isinstance(res, c.GenerateResult), res
    return res.variations[0].image


def _refine(runtime: Runtime, portrait: bytes, gid: str, **kw: Any) -> c.RefineRequest:
    """What the bot sends: the portrait and the stored fields of its order."""
    return c.RefineRequest(
        generation_id=gid,
        image=portrait,
        prompt=PROMPT,
        reference_prompt=REFERENCE_PROMPT,
        seeds=kw.pop("seeds", SEEDS),
        references=[_reference(runtime)],
        max_attempts=1,
        **kw,
    )


def _pixels(image: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(image)) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGB")).astype(np.float32)


def _mad(a: bytes, b: bytes) -> float:
    """Mean absolute pixel difference, 0..255."""
    return float(np.abs(_pixels(a) - _pixels(b)).mean())


def _c2pa_parent(image: bytes) -> str | None:
    """The active manifest of the image's parentOf ingredient (None: no parent)."""
    import c2pa

    with c2pa.Reader("image/png", io.BytesIO(image)) as reader:
        store = json.loads(reader.json())
    active = store["manifests"][store["active_manifest"]]
    parents = [i for i in active.get("ingredients", []) if i.get("relationship") == "parentOf"]
    return parents[0].get("active_manifest") if parents else None


def _active_manifest(image: bytes) -> str:
    import c2pa

    with c2pa.Reader("image/png", io.BytesIO(image)) as reader:
        return str(json.loads(reader.json())["active_manifest"])


async def test_vary_and_relight_through_the_worker(
    settings: Settings,
    runtime: Runtime,
    client: EngineClient,
    model: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    portrait = await _portrait(settings, runtime, client)
    asks = {
        "subtle": _refine(runtime, portrait, "r-subtle", mode=c.RefineMode.VARY),
        "strong": _refine(
            runtime, portrait, "r-strong", mode=c.RefineMode.VARY, strength=c.RefineStrength.STRONG
        ),
        "golden": _refine(
            runtime, portrait, "r-golden", mode=c.RefineMode.RELIGHT, lighting=GOLDEN, seeds=[11]
        ),
        "neon": _refine(
            runtime, portrait, "r-neon", mode=c.RefineMode.RELIGHT, lighting=NEON, seeds=[11]
        ),
    }
    jobs = {k: await client.enqueue(c.JOB_REFINE, req, job_id=k) for k, req in asks.items()}
    w = await _burst(settings, runtime)
    assert (w.jobs_complete, w.jobs_failed) == (4, 0)
    got = {k: await client.result(c.JOB_REFINE, j, timeout=5) for k, j in jobs.items()}
    # The portrait's round trip through the tiny VAE: the same job at strength 0.02.
    monkeypatch.setitem(img2img.STRENGTHS, (c.RefineMode.VARY, c.RefineStrength.SUBTLE), ROUND_TRIP)
    base_job = await client.enqueue(c.JOB_REFINE, asks["subtle"], job_id="base")
    await _burst(settings, runtime)
    base = await client.result(c.JOB_REFINE, base_job, timeout=5)
    assert isinstance(base, c.RefineResult) and base.strength == ROUND_TRIP

    want = {"subtle": 0.35, "strong": 0.65, "golden": 0.3, "neon": 0.3}
    portrait_manifest = _active_manifest(portrait)
    for key, res in got.items():
        assert isinstance(res, c.RefineResult), (key, res)
        assert res.strength == want[key] and res.model == model
        assert res.mode == (
            c.RefineMode.VARY if key in ("subtle", "strong") else c.RefineMode.RELIGHT
        )
        assert [v.seed for v in res.variations] == asks[key].seeds
        for v in res.variations:
            # gated like any order: random weights draw no face, and the verdict says so
            assert v.verdict == c.Verdict.NO_FACE and v.threshold is not None
            assert (v.face_found, v.passed, v.attempts) == (False, False, 1)
            assert _pixels(v.image).shape == (64, 64, 3)
            report = verify(v.image)
            assert report.ai_labelled and report.seed == v.seed and report.ai_system == model
            assert report.c2pa_actions == ["c2pa.opened", "c2pa.edited"]
            assert _c2pa_parent(v.image) == portrait_manifest  # the portrait is the parent
            verb = "varied" if key in ("subtle", "strong") else "relit"
            assert report.text_note is not None
            assert report.text_note.endswith(
                f"; {verb} ({asks[key].strength.value}, image-to-image strength {want[key]:.2f})."
            )
            assert GOLDEN not in report.text_note and NEON not in report.text_note

    subtle, strong = got["subtle"].variations, got["strong"].variations
    to_input = [
        (_mad(s.image, portrait), _mad(t.image, portrait))
        for s, t in zip(subtle, strong, strict=True)
    ]
    beyond = [
        (_mad(s.image, b.image), _mad(t.image, b.image))
        for s, t, b in zip(subtle, strong, base.variations, strict=True)
    ]
    relit = _mad(got["golden"].variations[0].image, got["neon"].variations[0].image)
    print(
        f"\n{model}: to the portrait (subtle, strong) {to_input}; beyond the VAE round trip "
        f"{beyond}; golden vs neon at seed 11: {relit:.2f}"
    )
    for d_subtle, d_strong in to_input:
        assert d_subtle > 0 and d_strong > 0
    for d_subtle, d_strong in beyond:
        assert 0 < d_subtle < d_strong
    # Two lights, one seed: two pictures. The tiny klein's text encoder (16 wide, random)
    # moves its output little with the words (0.015/255 here); tiny SDXL's by about 3.
    assert relit > (0.5 if model == "tiny" else 0.0)
    # new seeds, new pictures
    assert subtle[0].image != subtle[1].image and _mad(subtle[0].image, subtle[1].image) > 0.5


async def test_a_bad_portrait_is_a_job_failure(
    settings: Settings, runtime: Runtime, client: EngineClient, model: str
) -> None:
    if model != "tiny":
        pytest.skip("the refusals come before any model runs: one model is enough")
    huge = png(Image.new("RGB", (c.MAX_SIDE + 8, c.MAX_SIDE), (90, 90, 90)))
    asks = {
        "text": _refine(runtime, b"this is not an image", "bad-1", mode=c.RefineMode.VARY),
        "huge": _refine(runtime, huge, "bad-2", mode=c.RefineMode.VARY),
        "tiny": _refine(runtime, png(Image.new("RGB", (16, 16))), "bad-3", mode=c.RefineMode.VARY),
    }
    portrait = png(Image.new("RGB", (64, 64), (120, 100, 90)))
    ref = _reference(runtime)
    mine = c.ProtectedFace(id=3, embedding=ref.embedding)  # protected since the order
    asks["protected"] = _refine(runtime, portrait, "bad-4", mode=c.RefineMode.VARY).model_copy(
        update={"protected": [mine]}
    )
    jobs = {k: await client.enqueue(c.JOB_REFINE, r) for k, r in asks.items()}
    queue = c.queue_name(settings.queue_prefix, c.QUEUE_GPU)
    raw = c.to_wire(asks["text"]) | {"mode": "relight"}  # the bot's side refuses it too
    jobs["unlit"] = await client.redis.enqueue_job(c.JOB_REFINE, raw, _queue_name=queue)
    jobs["mode"] = await client.redis.enqueue_job(
        c.JOB_REFINE, c.to_wire(asks["text"]) | {"mode": "sharpen"}, _queue_name=queue
    )
    w = await _burst(settings, runtime)
    assert w.jobs_failed == 0  # refused as data, not crashed
    for key, code, words in [
        ("text", "bad_image", "can't read this file"),
        ("huge", "bad_image", f"{c.MAX_SIDE + 8}x{c.MAX_SIDE} pixels"),
        ("tiny", "bad_image", "only 16x16"),
        ("unlit", "bad_request", "lighting words"),
        ("mode", "bad_request", "mode"),
        ("protected", "protected", "protected"),
    ]:
        res = await client.result(c.JOB_REFINE, jobs[key], timeout=5)
        assert isinstance(res, c.JobFailure), (key, res)
        assert res.code == code and words in res.message, (key, res)
    with pytest.raises(ValueError, match="lighting words"):
        c.RefineRequest.model_validate(raw)


async def test_the_same_identity_conditioning_as_the_order(
    settings: Settings, runtime: Runtime, client: EngineClient, model: str
) -> None:
    """Other references, same portrait and seed: other pixels (SDXL / SD 1.5: the
    identity adapter's crops; klein: the reference images beside the portrait)."""
    portrait = await _portrait(settings, runtime, client)
    own = _refine(runtime, portrait, "id-own", mode=c.RefineMode.VARY, seeds=[11])
    vector = own.references[0].embedding.vector
    other = own.model_copy(update={"references": [made_up(vector, seed=9)]})
    jobs = [await client.enqueue(c.JOB_REFINE, r) for r in (own, other)]
    await _burst(settings, runtime)
    a, b = [await client.result(c.JOB_REFINE, j, timeout=5) for j in jobs]
    assert isinstance(a, c.RefineResult) and isinstance(b, c.RefineResult)
    assert _mad(a.variations[0].image, b.variations[0].image) > 0


def test_the_refine_job_in_the_contract() -> None:
    assert c.queue_for(c.JOB_REFINE) == c.QUEUE_GPU
    assert c.JOB_REFINE in engine_worker.QUEUE_JOBS[c.QUEUE_GPU]
    assert c.ADDED_JOBS[c.JOB_REFINE] == 3  # an older worker answers engine_outdated
    req = c.RefineRequest(
        generation_id="r",
        mode=c.RefineMode.RELIGHT,
        lighting=GOLDEN,
        image=b"png",
        prompt="p",
        seeds=[1],
        references=[c.Reference(embedding=c.Embedding(backend="dlib", vector=[0.0] * 128))],
    )
    sent = c.to_wire(req)
    assert "strength" not in sent and "max_attempts" not in sent  # defaults stay home
    assert c.parse_request(c.JOB_REFINE, sent) == req
    assert issubclass(c.RefineResult, c.GenerateResult)  # the bot delivers it as an order
    assert set(img2img.STRENGTHS) == {(m, s) for m in c.RefineMode for s in c.RefineStrength}
    assert img2img.refine_steps(8, 0.35) == 23 and img2img.refine_steps(30, 0.65) == 47


async def test_a_refine_reports_live_progress_like_an_order(
    settings: Settings, runtime: Runtime, client: EngineClient, model: str
) -> None:
    import asyncio

    if model != "tiny":
        pytest.skip("the same loop on every family: one model is enough")
    noise = np.random.default_rng(1).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    req = _refine(
        runtime,
        png(Image.fromarray(noise)),
        "r-progress",
        mode=c.RefineMode.VARY,
        strength=c.RefineStrength.STRONG,
        seeds=[1, 2, 3, 4],
    ).model_copy(update={"max_attempts": 2, "params": c.GenerationParams(steps=8)})
    job = await client.enqueue(c.JOB_REFINE, req, job_id="refine:p")
    seen: list[c.Progress] = []
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            p = await client.progress("refine:p")
            if p is not None and (not seen or p != seen[-1]):
                seen.append(p)
            await asyncio.sleep(0.005)

    watcher = asyncio.create_task(watch())
    try:
        await _burst(settings, runtime)
    finally:
        done.set()
        await watcher
    res = await client.result(c.JOB_REFINE, job, timeout=5)
    assert isinstance(res, c.RefineResult) and len(res.variations) == 4
    assert seen and seen[0].variations == [1, 2, 3, 4] and seen[0].of == 4
    # The order's 8 steps at strength 0.65: 13 scheduled, the last 8 run (refine_steps)
    assert {p.steps for p in seen if p.step} <= {8} and max(p.step for p in seen) >= 1
    assert await client.progress("refine:p") is None  # gone when the job ended
