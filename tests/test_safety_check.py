"""The output safety check: the real open_nsfw model on real photos and generated images,
and a real worker on Redis withholding and regenerating variations over the threshold."""

from __future__ import annotations

import io
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from conftest import FACES, insightface_image, needs_shared
from identity_refs import reference_of
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
    image = Image.open(insightface_image("Tom_Hanks_54745.png"))
    return c.GenerateRequest(
        generation_id=gid,
        prompt="a studio portrait of a person",
        seeds=seeds,
        references=[reference_of(rt.require_analyzer(), image)],
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


def _plan(first: list[float], retry: list[float]) -> float | None:
    """A threshold under which some variation is over on its first attempt only
    (regenerated) and some on both (withheld): a midpoint between two distinct scores
    (they are rounded to 4 decimals, so a midpoint separates them exactly)."""
    values = sorted(set(first + retry))
    for lo, hi in itertools.pairwise(values):
        t = (lo + hi) / 2
        regen = any(f >= t > r for f, r in zip(first, retry, strict=True))
        withheld = any(f >= t and r >= t for f, r in zip(first, retry, strict=True))
        if regen and withheld:
            return t
    return None


async def test_variations_over_the_threshold_are_regenerated_or_withheld(
    settings: Settings, runtime: Runtime, redis: ArqRedis
) -> None:
    """Score four seeds and their retries as the worker renders them (two batches: the
    tiny model's images have no face, so every variation is rendered twice), put the
    threshold where one is over on its first attempt only and one on both, and run the
    order through a real worker: what is over is never kept, the rest is predicted."""
    for base in range(5, 45, 4):  # (1-4 has no such threshold)
        seeds = [base, base + 1, base + 2, base + 3]
        first = scores(runtime, seeds)
        retry = scores(runtime, [retry_seed(s, 2) for s in seeds])
        threshold = _plan(first, retry)
        if threshold is not None:
            break
    else:
        pytest.fail("no seeds whose scores put one variation over once and one twice")
    kept, withheld = [], []
    for seed, f, r in zip(seeds, first, retry, strict=True):
        if f < threshold:
            kept.append((seed, f))
        elif r < threshold:
            kept.append((retry_seed(seed, 2), r))  # regenerated with a new seed
        else:
            withheld.append((seed, min(f, r)))

    rt = with_policy(runtime, settings, threshold, "regenerate")
    before = withheld_count("generate")
    client = EngineClient(redis, settings.queue_prefix, poll_delay=0.01)
    job = await client.enqueue(c.JOB_GENERATE, _request(runtime, "g-safety", seeds, 2))
    await burst(settings, rt)
    res = await client.result(c.JOB_GENERATE, job, timeout=10)
    assert isinstance(res, c.GenerateResult), res
    assert [(v.seed, v.safety) for v in res.variations] == kept
    assert all(v.safety < threshold for v in res.variations)  # type: ignore[operator]
    assert [(w.seed, w.safety) for w in res.withheld] == withheld
    assert all((w.attempts, w.threshold) == (2, threshold) for w in res.withheld)
    assert all("image" not in w.model_dump() for w in res.withheld)  # no image, ever
    assert withheld_count("generate") == before + len(withheld)

    # "withhold": a variation over on its first attempt is withheld at once, not rendered
    # again (so the rest are rendered alone on the second attempt).
    rt = with_policy(runtime, settings, threshold, "withhold")
    job = await client.enqueue(c.JOB_GENERATE, _request(runtime, "g-withhold", seeds, 2))
    await burst(settings, rt)
    res = await client.result(c.JOB_GENERATE, job, timeout=10)
    assert isinstance(res, c.GenerateResult)
    over = [s for s, f in zip(seeds, first, strict=True) if f >= threshold]
    assert [(w.seed, w.attempts) for w in res.withheld] == [(s, 1) for s in over]
    assert [v.seed for v in res.variations] == [s for s in seeds if s not in over]


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
