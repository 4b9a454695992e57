"""Four-variation render time per identity adapter, with the tiny model (CPU by default).

Loads the tiny SDXL through the production loader once per adapter (Plus Face with
dlib, FaceID Plus v2 with insightface buffalo_l: the adapter is chosen from the
setting, as in the worker), renders one order of four variations ``--repeats``
times through ``engine.pipeline.generate.render`` and prints the median, the
fastest, and the ratio to a baseline measured in the same run: the same tiny
pipeline with no adapter at all. It also times the identity input alone (the
CLIP encoding of the face crops). The tiny model's figures say what the adapter
path costs relative to the rest of the tiny pipeline, nothing about SDXL.

    .venv/bin/python benchmarks/bench_identity.py [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEEDS = [11, 12, 13, 14]


def timed(fn, repeats: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (0 = torch's)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)

    import numpy as np
    import torch
    from diffusers import StableDiffusionXLPipeline
    from PIL import Image

    from engine.families import ensure_tiny_model
    from engine.pipeline.generate import render, resolve_params
    from engine.pipeline.identity_input import identity_kwargs
    from engine.pipeline.loader import TINY_DEFAULTS, LoadedPipeline, Optimisations, load_pipeline
    from engine.pipeline.speed import apply_speedups
    from sitter.config import load_settings
    from sitter.contract import GenerationParams

    if args.threads:
        torch.set_num_threads(args.threads)
    models = Path(tempfile.mkdtemp(prefix="bench-identity-"))
    rng = np.random.default_rng(0)
    crops = [Image.fromarray(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)) for _ in range(4)]
    rows = []

    base = StableDiffusionXLPipeline.from_pretrained(ensure_tiny_model("tiny", models))
    base.to(args.device)
    base.set_progress_bar_config(disable=True)
    opts = Optimisations.for_device(args.device)
    opts.apply(base)  # the loader's switches, so only the adapter differs
    plain_loaded = LoadedPipeline(
        pipe=base,
        family="sdxl",
        model="tiny, no adapter",
        tiny=True,
        device=args.device,
        opts=opts,
        defaults=TINY_DEFAULTS,
        adapter=None,  # type: ignore[arg-type]  # the baseline has none
    )
    apply_speedups(plain_loaded, False)
    params = None
    for kind, backend in (("plus-face", "dlib"), ("faceid-plusv2", "insightface")):
        settings = load_settings(
            model="tiny",
            face_backend=backend,
            identity_adapter=kind,
            model_cache=models,
            device=args.device,
        )
        loaded = load_pipeline(settings)
        params = resolve_params(loaded, GenerationParams())
        refs = rng.normal(size=(3, loaded.id_dim)).astype(np.float32)

        def order(loaded=loaded, refs=refs, params=params) -> None:
            render(
                loaded, prompt="a portrait", negative_prompt="blurry", params=params,
                seeds=SEEDS, refs=refs, crops=crops,
            )  # fmt: skip

        def encode(loaded=loaded, refs=refs) -> None:
            with torch.inference_mode():
                identity_kwargs(loaded, refs, crops, cfg=True, batch=len(SEEDS))

        rows.append((loaded.adapter.name, timed(order, args.repeats), timed(encode, args.repeats)))
        del loaded

    assert params is not None

    def plain() -> None:
        with torch.inference_mode():
            base(
                prompt="a portrait", negative_prompt="blurry", num_images_per_prompt=len(SEEDS),
                generator=[torch.Generator().manual_seed(s) for s in SEEDS],
                num_inference_steps=params.steps, guidance_scale=params.guidance,
                width=params.width, height=params.height, output_type="pil",
            )  # fmt: skip

    baseline = timed(plain, args.repeats) + timed(plain, args.repeats)  # twice: drift shows
    b = statistics.median(baseline)
    what = f"4 variations at {params.width}x{params.height}, {params.steps} steps, CFG"
    print(f"\ntiny SDXL on {args.device}, torch threads {torch.get_num_threads()}: {what}")
    print(f"{'adapter':66} {'median s':>9} {'min s':>7} {'x base':>7} {'id input ms':>12}")
    print(f"{'none (baseline: the same pipeline, no adapter)':66} {b:9.3f} {min(baseline):7.3f}")
    for name, secs, enc in rows:
        m = statistics.median(secs)
        ms = 1000 * statistics.median(enc)
        print(f"{name:66} {m:9.3f} {min(secs):7.3f} {m / b:7.2f} {ms:12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
