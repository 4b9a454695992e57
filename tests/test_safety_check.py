"""The output safety check: the real open_nsfw model on real photos and generated images,
and a real worker on Redis withholding and regenerating variations over the threshold."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from conftest import FACES, insightface_image, needs_shared
from PIL import Image
from prometheus_client import REGISTRY

from engine import worker as engine_worker
from engine.analysis import analyze_photo
from engine.pipeline.generate import generate, retry_seed
from engine.runtime import Runtime
from engine.safety_check import DERIVED_WITHHELD, Policy, SafetyAction, Screen, load_classifier
from sitter import contract as c
from sitter.config import DEFAULT_SAFETY_THRESHOLD, Settings, load_settings
from sitter.queue import EngineClient, connect

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# An ordinary portrait that open_nsfw scores 0.517: over the classifier's own 0.5.
HIGHEST_ORDINARY = "deepface_id01/2.jpg"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def runtime(data: Path) -> Runtime:
    settings = load_settings(model="tiny", face_backend="dlib", data_dir=data)
    return Runtime(settings).load(("faces", "pipeline", "signer", "safety"))


def with_policy(rt: Runtime, settings: Settings, threshold: float, action: str) -> Runtime:
    """The same loaded models under another threshold and action."""
    s = settings.model_copy(update={"safety_threshold": threshold, "safety_action": action})
    return Runtime(
        s, analyzer=rt.analyzer, pipeline=rt.pipeline, signer=rt.signer, safety=rt.safety
    )


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


async def burst(settings: Settings, runtime: Runtime, queue: str = c.QUEUE_GPU) -> None:
    w = engine_worker.build_worker(settings, queue, runtime, burst=True)
    try:
        await w.async_run()
    finally:
        await w.close()


def _request(rt: Runtime, gid: str, seeds: list[int], attempts: int) -> c.GenerateRequest:
    image = Image.open(insightface_image("Tom_Hanks_54745.png")).convert("RGB")
    face = rt.require_analyzer().detect(image)[0]
    emb = c.Embedding(backend=rt.require_analyzer().name, vector=face.embedding.tolist())
    return c.GenerateRequest(
        generation_id=gid,
        prompt="a studio portrait of a person",
        seeds=seeds,
        references=[c.Reference(embedding=emb)],
        max_attempts=attempts,
    )


def scores(rt: Runtime, seeds: list[int]) -> list[float]:
    """Each seed's score when the seeds are rendered together in one batch (log only)."""
    probe = with_policy(rt, rt.settings, 1.0, "log")
    result = generate(probe, _request(rt, "probe", seeds, 1))
    return [v.safety for v in result.variations]  # type: ignore[misc]


def withheld_count(kind: str) -> float:
    return REGISTRY.get_sample_value("sitter_outputs_withheld_total", {"kind": kind}) or 0.0


@needs_shared
def test_ordinary_photos_score_under_the_threshold() -> None:
    classifier = load_classifier()
    got = {
        f"{p.parent.name}/{p.name}": classifier.score(Image.open(p).convert("RGB"))
        for p in sorted(FACES.glob("*/*.jpg"))
    }
    assert len(got) == 36
    assert max(got.values()) < DEFAULT_SAFETY_THRESHOLD
    # Why the default is not the classifier's own 0.5: this portrait would be refused.
    assert got[HIGHEST_ORDINARY] > 0.5


@needs_shared
def test_a_reference_photo_over_the_threshold_is_refused_with_a_plain_reason(runtime) -> None:
    photo = (FACES / HIGHEST_ORDINARY).read_bytes()
    req = c.AnalyzePhotoRequest(photo=photo)
    analyzer = runtime.require_analyzer()
    classifier = runtime.require_safety()
    default = Screen(classifier, Policy(DEFAULT_SAFETY_THRESHOLD, SafetyAction.REGENERATE))
    assert analyze_photo(req, analyzer, safety=default).accepted
    strict = Screen(classifier, Policy(0.5, SafetyAction.REGENERATE), "reference")
    before = withheld_count("reference")
    r = analyze_photo(req, analyzer, safety=strict)
    assert not r.accepted and [i.problem for i in r.issues] == [c.PhotoProblem.UNSAFE]
    assert "nudity" in r.issues[0].detail
    assert r.embedding is None and r.face_crop is None  # nothing of it comes back
    assert withheld_count("reference") == before + 1


def test_generated_images_score_far_under_the_threshold(runtime) -> None:
    got = scores(runtime, [11, 12, 13, 14])
    assert all(0.0 <= s < 0.1 for s in got), got


async def test_a_variation_over_the_threshold_is_regenerated_with_a_new_seed(
    settings: Settings, runtime: Runtime, redis: ArqRedis
) -> None:
    """Find a seed whose first image scores above its retry's, put the threshold between
    them, and run the order through a real worker: the first image is never kept."""
    for seed in range(1, 30):
        (first,) = scores(runtime, [seed])
        (second,) = scores(runtime, [retry_seed(seed, 2)])
        if first - second >= 0.0005:
            break
    else:
        pytest.fail("no seed whose first image scores above its retry's")
    rt = with_policy(runtime, settings, (first + second) / 2, "regenerate")
    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.01)
    job = await client.enqueue(c.JOB_GENERATE, _request(runtime, "g-regen", [seed], 2))
    await burst(settings, rt)
    res = await client.result(c.JOB_GENERATE, job, timeout=10)
    assert isinstance(res, c.GenerateResult), res
    (v,) = res.variations
    assert (v.seed, v.attempts, v.safety) == (retry_seed(seed, 2), 2, second)
    assert res.withheld == []


async def test_a_variation_over_the_threshold_on_every_attempt_is_withheld(
    settings: Settings, runtime: Runtime, redis: ArqRedis
) -> None:
    """Two seeds rendered together: the threshold sits under both attempts of one and
    over an attempt of the other, so one portrait is delivered and one withheld."""
    for x in range(1, 30, 2):
        seeds = [x, x + 1]
        first = scores(runtime, seeds)
        retry = scores(runtime, [retry_seed(s, 2) for s in seeds])
        low = [min(f, r) for f, r in zip(first, retry, strict=True)]
        high = [max(f, r) for f, r in zip(first, retry, strict=True)]
        # One seed (index i) over the threshold on both attempts, the other under on both.
        i = next((i for i in (0, 1) if low[i] - high[1 - i] >= 0.0005), None)
        if i is not None:
            a, b = seeds[i], seeds[1 - i]
            break
    else:
        pytest.fail("no pair of seeds with separable scores")
    threshold = (low[i] + high[1 - i]) / 2
    rt = with_policy(runtime, settings, threshold, "regenerate")
    before = withheld_count("generate")
    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.01)
    job = await client.enqueue(c.JOB_GENERATE, _request(runtime, "g-withheld", seeds, 2))
    await burst(settings, rt)
    res = await client.result(c.JOB_GENERATE, job, timeout=10)
    assert isinstance(res, c.GenerateResult), res
    assert [w.seed for w in res.withheld] == [a]
    (w,) = res.withheld
    assert (w.attempts, w.safety, w.threshold) == (2, low[i], threshold)
    assert "image" not in w.model_dump()  # the audit record carries no image
    (v,) = res.variations
    assert v.seed in (b, retry_seed(b, 2)) and v.safety is not None and v.safety < threshold
    assert withheld_count("generate") == before + 1

    # "withhold": no second render for the one over the threshold.
    rt = with_policy(runtime, settings, threshold, "withhold")
    job = await client.enqueue(c.JOB_GENERATE, _request(runtime, "g-withhold", seeds, 2))
    await burst(settings, rt)
    res = await client.result(c.JOB_GENERATE, job, timeout=10)
    assert isinstance(res, c.GenerateResult)
    assert [(w.seed, w.attempts) for w in res.withheld] == [(a, 1)]


async def test_a_labelled_copy_over_the_threshold_is_withheld(
    settings: Settings, runtime: Runtime, redis: ArqRedis
) -> None:
    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.01)
    gen = await client.enqueue(c.JOB_GENERATE, _request(runtime, "g-lab", [9], 1))
    await burst(settings, runtime)
    res = await client.result(c.JOB_GENERATE, gen, timeout=10)
    assert isinstance(res, c.GenerateResult)
    lab = await client.enqueue(c.JOB_LABEL, c.LabelRequest(image=res.variations[0].image))
    await burst(settings, runtime, c.QUEUE_FAST)
    labelled = await client.result(c.JOB_LABEL, lab, timeout=10)
    assert isinstance(labelled, c.LabelResult)  # under the default threshold: delivered
    score = runtime.require_safety().score_bytes(labelled.image)

    rt = with_policy(runtime, settings, score, "regenerate")  # this copy reaches it
    before = withheld_count("label")
    lab = await client.enqueue(c.JOB_LABEL, c.LabelRequest(image=res.variations[0].image))
    await burst(settings, rt, c.QUEUE_FAST)
    refused = await client.result(c.JOB_LABEL, lab, timeout=10)
    assert isinstance(refused, c.JobFailure)
    assert (refused.code, refused.message) == ("withheld", DERIVED_WITHHELD)
    assert withheld_count("label") == before + 1


def test_old_results_without_safety_fields_still_parse() -> None:
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    old = {
        "generation_id": "g",
        "variations": [
            {
                "seed": 1,
                "image": png.getvalue(),
                "likeness": None,
                "face_found": False,
                "attempts": 1,
                "passed": False,
            }
        ],
        "model": "tiny",
        "adapter": "none",
        "device": "cpu",
        "seconds": 0.1,
    }
    res = c.parse_result(c.JOB_GENERATE, old)
    assert isinstance(res, c.GenerateResult)
    assert res.withheld == [] and res.variations[0].safety is None
