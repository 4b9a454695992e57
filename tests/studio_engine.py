"""A small stand-in engine worker for the studio tests, until engine/worker.py lands.

It is a real arq worker on the real Redis with the contract's serializer; face
analysis uses the real dlib analyzer (engine/faces/dlib_backend.py) on real
photos, and generation/upscale/label return real PNG files made with Pillow
(no diffusion model). Run as a process:

    python tests/studio_engine.py   # env: SITTER_REDIS_URL, SITTER_QUEUE_PREFIX

``STUDIO_ENGINE_DELAY`` (seconds) slows generation down, so tests can kill
things while a job is running.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arq.worker import Worker
from PIL import Image, ImageDraw

from sitter import contract as c
from sitter.queue import redis_settings

_ANALYZER: Any = None


def analyzer() -> Any:
    global _ANALYZER
    if _ANALYZER is None:
        from engine.faces.dlib_backend import DlibAnalyzer

        _ANALYZER = DlibAnalyzer()
    return _ANALYZER


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _analyze(req: c.AnalyzePhotoRequest) -> c.AnalyzePhotoResult:
    import numpy as np

    try:
        with Image.open(io.BytesIO(req.photo)) as im:
            im.load()
            image = im.convert("RGB")
    except Exception:
        issue = c.Issue(problem=c.PhotoProblem.UNREADABLE, detail="not an image I can open")
        return c.AnalyzePhotoResult(accepted=False, issues=[issue])
    a = analyzer()
    faces = a.detect(image)
    base = {
        "width": image.width,
        "height": image.height,
        "format": "image",
        "face_count": len(faces),
    }
    if not faces:
        issue = c.Issue(problem=c.PhotoProblem.NO_FACE, detail="no face found")
        return c.AnalyzePhotoResult(accepted=False, issues=[issue], **base)
    if len(faces) > 1:
        issue = c.Issue(problem=c.PhotoProblem.SEVERAL_FACES, detail=f"I see {len(faces)} faces")
        return c.AnalyzePhotoResult(accepted=False, issues=[issue], **base)
    face = faces[0]
    vec = face.embedding
    for p in req.protected:
        if a.similarity(vec, np.asarray(p.embedding.vector)) >= a.same_person_threshold:
            issue = c.Issue(problem=c.PhotoProblem.PROTECTED, detail="protected face")
            return c.AnalyzePhotoResult(
                accepted=False, issues=[issue], protected_match=p.id, **base
            )
    if req.set_embeddings:
        sims = [a.similarity(vec, np.asarray(e.vector)) for e in req.set_embeddings]
        if float(np.median(sims)) < a.same_person_threshold:
            issue = c.Issue(problem=c.PhotoProblem.DIFFERENT_PERSON, detail="")
            return c.AnalyzePhotoResult(accepted=False, issues=[issue], **base)
    crop = a.aligned_crop(image, face, 64)
    return c.AnalyzePhotoResult(
        accepted=True,
        embedding=c.Embedding(backend=a.name, vector=[float(x) for x in vec]),
        face_crop=_png(crop),
        **base,
    )


async def analyze_photo(ctx: dict, payload: dict) -> dict:
    req = c.parse_request(c.JOB_ANALYZE, payload)
    assert isinstance(req, c.AnalyzePhotoRequest)
    return (await asyncio.to_thread(_analyze, req)).model_dump()


async def check_set(ctx: dict, payload: dict) -> dict:
    import numpy as np

    req = c.parse_request(c.JOB_CHECK_SET, payload)
    assert isinstance(req, c.CheckSetRequest)
    a = analyzer()
    vecs = [np.asarray(e.vector) for e in req.embeddings]
    meds = []
    for i, v in enumerate(vecs):
        others = [a.similarity(v, o) for j, o in enumerate(vecs) if j != i]
        meds.append(float(np.median(others)) if others else 1.0)
    from engine.identity import one_person, protected_references

    t = a.same_person_threshold
    outliers = one_person(len(vecs), lambda i, j: a.similarity(vecs[i], vecs[j]), t).outliers

    matches = protected_references(a, req.embeddings, req.protected)
    return c.CheckSetResult(
        outliers=outliers,
        threshold=a.same_person_threshold,
        distances=meds,
        protected_matches=[c.ProtectedMatch(index=i, protected_id=p) for i, p in matches],
    ).model_dump()


async def generate(ctx: dict, payload: dict) -> dict:
    req = c.parse_request(c.JOB_GENERATE, payload)
    assert isinstance(req, c.GenerateRequest)
    t0 = time.perf_counter()
    if getattr(req, "protected", None):  # the real worker's rule, before anything is painted
        from engine.identity import protected_references

        refs = [r.embedding for r in req.references]
        if protected_references(analyzer(), refs, req.protected):
            return c.JobFailure(
                code="protected", message="a reference photo shows a protected face"
            ).model_dump()
    delay = float(os.environ.get("STUDIO_ENGINE_DELAY", "0"))
    if delay:
        await asyncio.sleep(delay)
    out = []
    for seed in req.seeds:
        rng = random.Random(seed)
        im = Image.new("RGB", (64, 64), tuple(rng.randrange(256) for _ in range(3)))
        ImageDraw.Draw(im).ellipse((16, 12, 48, 52), fill=(230, 190, 160))
        out.append(
            c.Variation(seed=seed, image=_png(im), likeness=0.8, face_found=True, passed=True)
        )
    return c.GenerateResult(
        generation_id=req.generation_id,
        variations=out,
        model="studio-test-engine",
        adapter="none",
        device="cpu",
        seconds=time.perf_counter() - t0,
    ).model_dump()


async def upscale(ctx: dict, payload: dict) -> dict:
    req = c.parse_request(c.JOB_UPSCALE, payload)
    assert isinstance(req, c.UpscaleRequest)
    with Image.open(io.BytesIO(req.image)) as im:
        big = im.convert("RGB").resize((im.width * req.scale, im.height * req.scale))
    return c.UpscaleResult(
        image=_png(big),
        method="pillow-bicubic (test engine)",
        width=big.width,
        height=big.height,
        seconds=0.0,
    ).model_dump()


async def label(ctx: dict, payload: dict) -> dict:
    req = c.parse_request(c.JOB_LABEL, payload)
    assert isinstance(req, c.LabelRequest)
    with Image.open(io.BytesIO(req.image)) as im:
        out = im.convert("RGB")
    ImageDraw.Draw(out).text((2, out.height - 12), req.text, fill=(255, 255, 255))
    return c.LabelResult(image=_png(out), seconds=0.0).model_dump()


async def check_prompt(ctx: dict, payload: dict) -> dict:
    """The stand-in has no text encoder: it cannot tell, so every prompt passes."""
    c.parse_request(c.JOB_CHECK_PROMPT, payload)
    return c.CheckPromptResult(fits=True, message="not checked here").model_dump()


async def screen_text(ctx: dict, payload: dict) -> dict:
    """The stand-in has no text model: it cannot tell (the bot's word lists still run)."""
    c.parse_request(c.JOB_SCREEN_TEXT, payload)
    return c.ScreenTextResult(ok=True, checked=False).model_dump()


FUNCTIONS = [analyze_photo, check_set, generate, upscale, label, check_prompt, screen_text]


def workers(redis_url: str, prefix: str) -> list[Worker]:
    common: dict[str, Any] = {
        "functions": FUNCTIONS,
        "redis_settings": redis_settings(redis_url),
        "job_serializer": c.serialize,
        "job_deserializer": c.deserialize,
        "poll_delay": 0.01,
        "keep_result": 3600,
        "handle_signals": False,
        "max_tries": 3,
        "job_timeout": float(os.environ.get("STUDIO_ENGINE_JOB_TIMEOUT", "60")),
    }
    queues = os.environ.get("STUDIO_ENGINE_QUEUES", "fast,gpu").split(",")
    return [Worker(queue_name=c.queue_name(prefix, q), **common) for q in queues if q]


async def main() -> None:
    import signal

    from redis.asyncio import Redis

    from sitter.heartbeat import Heartbeat

    url = os.environ["SITTER_REDIS_URL"]
    prefix = os.environ["SITTER_QUEUE_PREFIX"]
    ws = workers(url, prefix)
    queues = [q for q in os.environ.get("STUDIO_ENGINE_QUEUES", "fast,gpu").split(",") if q]
    redis = Redis.from_url(url)
    beat = Heartbeat(
        redis,
        prefix,
        queues,
        float(os.environ.get("SITTER_WORKER_HEARTBEAT_S", "5")),
        model="studio-test-engine",
        running=lambda: [j for w in ws for j in w.job_tasks],
    )

    from sitter import events

    for w in ws:
        beat.attach(w)
        events.attach(w, prefix)  # "started" / "done" on the job event stream, as the engine
    beat.start()  # "loading": the studio waits for this worker rather than failing fast
    if "fast" in queues:
        await asyncio.to_thread(analyzer)  # dlib's models, before the first (timed) job
    await beat.serving()
    print("studio test engine ready", hashlib.sha1(prefix.encode()).hexdigest()[:6], flush=True)
    task = asyncio.ensure_future(asyncio.gather(*(w.async_run() for w in ws)))
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        pass
    finally:
        await beat.stop()  # a clean stop is seen at once; a kill after three beats
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
