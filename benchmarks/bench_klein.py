"""FLUX.2 [klein] 4B's speed: one four-image order against the hardware's floor.

Run through ``bench_speed.py --config klein|tiny-klein`` (the shared table and
rates live there). ``klein``: the 4B architecture from engine/pipeline/configs
(klein_*.json) with random weights, no download; ``tiny-klein``: the engine's tiny
offline model through the engine's own loader. Each order: ``--refs`` reference
images (default 4) given at ``--ref-input`` px (default 1024) and prepared by the
engine (engine.pipeline.klein: the aligned crop framed, 512 px on the real model),
4 steps, no guidance, four images, through engine.pipeline.generate.render with
the order's reference latents encoded once (klein.ReferenceLatents).

Rows: ``all-switches`` (eager: bf16, SDPA), then ``+compile(MODE)`` (transformer and VAE decoder,
what the worker does on CUDA: engine.pipeline.klein_speed.apply_speedups); the
compiled row's ``1st job s`` is compile time plus one job.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_speed as core
import flop_count

PROMPT = (
    "the person in the reference images as a portrait photo, wearing a suit, "
    "studio background, soft light"
)


def meta_counts(args: argparse.Namespace, side: int) -> Any:
    """Parameters and FLOPs, printed; the 4B model on the meta device, tiny on the CPU."""
    from engine.pipeline import klein

    started = time.perf_counter()
    if args.config == "klein":
        from engine.pipeline.configs.klein import build_klein, parameter_counts

        pipe = build_klein("meta")
        counts = parameter_counts(pipe)
        print("parameters: " + ", ".join(f"{k} {v / 1e9:.3f} B ({v:,})" for k, v in counts.items()))
        ref_side = klein.REFERENCE_PATCHES * int(pipe.vae_scale_factor) * 2
    else:
        from engine.pipeline.tiny_klein import build_tiny_klein

        pipe = build_tiny_klein()
        ref_side = min(klein.REFERENCE_PATCHES * int(pipe.vae_scale_factor) * 2, side)
    flops = flop_count.count_klein_flops(pipe, side, args.refs, ref_side)
    print(f"FLOPs counted on the meta device in {time.perf_counter() - started:.1f}s, {side}px:")
    patch = int(pipe.vae_scale_factor) * 2
    tokens, ref_tokens = (side // patch) ** 2, (ref_side // patch) ** 2
    lines = [
        (f"transformer forward, {tokens} image + 512 text tokens", flops.transformer_plain),
        (f"  + {args.refs} references x {ref_tokens} tokens ({ref_side}px)", flops.transformer),
        ("VAE decode", flops.vae_decode),
        ("VAE encode (one reference)", flops.vae_encode),
        ("text encoder (one prompt, padded)", flops.text),
    ]
    if args.config == "klein" and args.refs:  # what 1024 px references would cost
        big = flop_count.transformer_flops(pipe, side, args.refs, 1024)
        lines.append((f"  (references at 1024px: {(1024 // patch) ** 2} tokens each)", big))
    for name, value in lines:
        print(f"  {name:<52} {core.tflop(value)}")
    job = flops.job(args.images, args.steps)
    floor = job / (core.H100_BF16_TFLOPS * 1e12)
    print(
        f"  klein job ({args.images} images, {args.steps} steps, {args.refs} refs): "
        f"{core.tflop(job)} = {floor:.4g} s at {core.H100_BF16_TFLOPS:.0f} TFLOP/s (H100 bf16)"
    )
    return flops


def load(args: argparse.Namespace, device: str, dtype: Any, models_dir: Path) -> Any:
    """The 4B architecture wrapped as the engine's LoadedPipeline, or tiny-klein via the loader."""
    from engine.pipeline import klein_speed
    from engine.pipeline.loader import FAMILY_DEFAULTS, LoadedPipeline, Optimisations, load_pipeline
    from sitter.config import load_settings

    settings = load_settings(
        model="tiny-klein",
        device=device,
        model_cache=models_dir,
        face_backend="insightface",
        compile="off",
    )
    tiny = load_pipeline(settings)  # the engine's own loader (and its AdapterSpec)
    if args.config == "tiny-klein":
        return tiny
    from engine.pipeline.configs.klein import build_klein

    pipe = build_klein(device, dtype)
    pipe.set_progress_bar_config(disable=True)
    loaded = LoadedPipeline(
        pipe=pipe,
        family="klein",
        model="FLUX.2-klein-4B architecture, random weights",
        tiny=False,
        device=device,
        opts=Optimisations(dtype=dtype, sdpa=False),
        defaults=FAMILY_DEFAULTS["klein"],
        adapter=tiny.adapter,
    )
    klein_speed.apply_speedups(loaded, False)
    return loaded


def reference_crops(n: int, side: int) -> list[Any]:
    """``n`` distinct ``side`` px pictures standing in for the analysis' face crops."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    return [
        Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)) for _ in range(n)
    ]


def render_job(loaded: Any, args: argparse.Namespace, side: int, crops: list[Any]) -> float:
    """One order through the engine: references prepared, latents encoded once, render()."""
    from engine.pipeline import klein
    from engine.pipeline.generate import Resolved, render

    core.sync(loaded.device)
    started = time.perf_counter()
    ref_side = klein.reference_side(loaded)
    images = [klein.prepare_reference(c, ref_side) for c in crops]
    out = render(
        loaded,
        prompt=PROMPT,
        negative_prompt="",
        params=Resolved(args.steps, 1.0, side, side, 1.0),
        seeds=list(range(args.images)),
        refs=None,
        ref_images=images,
        ref_latents=klein.ReferenceLatents(),
    )
    core.sync(loaded.device)
    seconds = time.perf_counter() - started
    assert len(out) == args.images and out[0].size == (side, side), "wrong images"
    return seconds


def measure(loaded, args, flops, peak, label, side, crops) -> dict[str, Any]:
    import torch

    first = None
    for _ in range(max(args.warmup, 1 if "compile" in label else 0)):
        t = render_job(loaded, args, side, crops)
        first = t if first is None else first
    if first is not None:
        print(f"  ({label}: first job {first:.2f}s)", flush=True)
    if loaded.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    times = [render_job(loaded, args, side, crops) for _ in range(args.repeats)]
    med = statistics.median(times)
    floor = flops.job(args.images, args.steps) / (peak * 1e12)
    row = {
        "variant": label,
        "path": f"klein-{args.refs}r",
        "steps": args.steps,
        "cfg": False,
        "size": side,
        "images": args.images,
        "s_per_job": med,
        "s_min": min(times),
        "images_per_s": args.images / med,
        "floor_s": floor,
        "ratio": med / floor,
        "peak_mb": core.peak_memory_mb(loaded.device),
        "first_s": first,
        "measured_tflops": getattr(args, "measured_tflops", None),
        "rate_tflops": peak,
    }
    core.print_row(row, flush=True)
    return row


def main(args: argparse.Namespace, device: str) -> list[dict[str, Any]] | None:
    """Counts (always), then eager and compiled rows unless ``--dry``."""
    import torch

    if not 0 <= args.refs <= 4:
        raise SystemExit("--refs: FLUX.2 [klein] takes 0 to 4 reference images")
    side = args.side or (1024 if args.config == "klein" else 64)
    flops = meta_counts(args, side)
    if args.dry:
        return None
    if device == "cuda":
        peak = args.peak_tflops or core.H100_BF16_TFLOPS
        dtype = torch.bfloat16
        args.measured_tflops = core.cuda_matmul_tflops()
        print(f"measured bf16 8192^3 matrix product: {args.measured_tflops:.0f} TFLOP/s")
    else:
        peak = args.peak_tflops or core.cpu_matmul_tflops()
        dtype = torch.float32
    print(f"floor rate: {peak:.3f} TFLOP/s")
    started = time.perf_counter()
    loaded = load(args, device, dtype, Path(tempfile.mkdtemp(prefix="bench-klein-")))
    print(f"loaded {args.config} on {device} in {time.perf_counter() - started:.1f}s")
    import diffusers

    info = torch.cuda.get_device_name() if device == "cuda" else os.uname().machine
    print(f"device: {info}; torch {torch.__version__}; diffusers {diffusers.__version__}")
    crops = reference_crops(args.refs, args.ref_input)
    print(core.HEADER)
    rows = [measure(loaded, args, flops, peak, "all-switches", side, crops)]
    core.save_rows(rows, args)  # a run cut short by its timeout keeps its rows
    from engine.pipeline import klein_speed, speed

    trace = args.compile == "trace"  # graph capture only (dynamo, eager backend): CPU checks
    if trace or speed.compile_wanted(args.compile, device):
        backend = "eager" if trace else "inductor"
        klein_speed.apply_speedups(
            loaded,
            True,
            compile_mode=args.compile_mode,
            compile_backend=backend,
        )
        mode = "trace" if trace else args.compile_mode
        rows.append(measure(loaded, args, flops, peak, f"+compile({mode})", side, crops))
        core.save_rows(rows, args)
    return rows
