"""Qwen-Image-Edit's order timing (``bench_speed.py --config tiny-qwen-edit``).

One job is one order through the engine's own path: the person's photos prepared by the
family, their VAE latents encoded once (``Family.latents_cache``), ``render()`` with up
to three input pictures, every seed in one batched call. Only the tiny offline model
runs here (the real 20B model's random-weight architecture is not built in code yet),
so the rows time the path, not the model; there is no FLOP floor for this family yet.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_klein
import bench_speed as core

PROMPT = "a studio portrait of the person in the reference images"


def render_job(loaded: Any, args: argparse.Namespace, side: int, crops: list[Any]) -> float:
    """One order: references prepared, latents encoded once, render()."""
    from engine.pipeline import klein
    from engine.pipeline.generate import Resolved, render

    family = loaded.model_family
    core.sync(loaded.device)
    started = time.perf_counter()
    ref_side = family.reference_side(loaded)
    images = [klein.prepare_reference(c, ref_side) for c in crops]
    out = render(
        loaded,
        prompt=PROMPT,
        negative_prompt="",
        params=Resolved(args.steps, 1.0, side, side, 1.0),
        seeds=list(range(args.images)),
        refs=None,  # type: ignore[arg-type]  # no adapter: the pictures carry the person
        ref_images=images,
        ref_latents=family.latents_cache(),
    )
    core.sync(loaded.device)
    seconds = time.perf_counter() - started
    assert len(out) == args.images and out[0].size == (side, side), "wrong images"
    return seconds


def main(args: argparse.Namespace, device: str) -> list[dict[str, Any]] | None:
    """The tiny model's row (``--dry``: nothing to count for this family yet)."""
    from engine.families.qwen_edit import MAX_PICTURES
    from engine.pipeline.loader import load_pipeline
    from sitter.config import load_settings

    if args.refs < 1:
        raise SystemExit("--refs: Qwen-Image-Edit needs at least one input picture")
    refs = min(args.refs, MAX_PICTURES)
    if args.dry:
        print("qwen-edit: no meta-device counts for this family yet (nothing to do dry)")
        return None
    side = args.side or 64
    started = time.perf_counter()
    settings = load_settings(
        model="tiny-qwen-edit",
        device=device,
        model_cache=Path(tempfile.mkdtemp(prefix="bench-qwen-")),
        face_backend="dlib",
        compile="off",
    )
    loaded = load_pipeline(settings)  # the engine's own loader and family
    print(f"loaded {args.config} on {device} in {time.perf_counter() - started:.1f}s")
    print(f"qwen-edit job ({args.images} images, {args.steps} steps, {refs} pictures)")
    crops = bench_klein.reference_crops(refs, args.ref_input)
    first = None
    for _ in range(args.warmup):
        t = render_job(loaded, args, side, crops)
        first = t if first is None else first
    times = [render_job(loaded, args, side, crops) for _ in range(args.repeats)]
    med = statistics.median(times)
    row = {
        "variant": "all-switches",
        "path": f"qwen-{refs}p",
        "steps": args.steps,
        "cfg": False,
        "size": side,
        "images": args.images,
        "s_per_job": med,
        "s_min": min(times),
        "images_per_s": args.images / med,
        "floor_s": None,
        "ratio": None,
        "peak_mb": core.peak_memory_mb(loaded.device),
        "first_s": first,
    }
    print(core.HEADER)
    core.print_row(row, flush=True)
    return [row]
