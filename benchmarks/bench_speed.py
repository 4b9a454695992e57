"""Speed of one four-image order against the hardware's floor.

Builds the pipeline (``--config sdxl``: SDXL's published architecture from
engine/pipeline/configs with random weights, no download; ``--config tiny``: the
engine's tiny offline model through the engine's own loader), adds the identity
adapter's layers with the engine's adapter code, applies the engine's speed
switches (engine.pipeline.speed) and times the engine's own render function
(engine.pipeline.generate.render: the one batched pipeline call that every
order goes through) for both paths:

- quality: 30 steps with classifier-free guidance, 1024x1024 (tiny: 64x64);
- fast: 4 steps without guidance, trailing Euler timesteps (SDXL-Lightning's recipe).

The floor: FLOPs of one UNet forward and one VAE decode counted with
torch.utils.flop_counter on the meta device (no weights allocated), times the
work of one order, over the device's dense rate (790 TFLOP/s: H100 bf16; on
CPU a measured float32 matrix-product rate). Prints one table: seconds per job
(median of ``--repeats`` after a warm-up), images per second, ratio to floor,
peak memory.

    .venv/bin/python benchmarks/bench_speed.py --config tiny --device cpu --repeats 1
    .venv/bin/python benchmarks/bench_speed.py --config sdxl --dry      # FLOPs/params only
    .venv/bin/python benchmarks/bench_speed.py --config klein --train --dry  # train step floor
    python3 benchmarks/bench_speed.py --config sdxl --device cuda --ladder   # on a GPU

``--ladder`` measures the switches one at a time, cumulatively (classic
attention -> SDPA -> fused QKV -> channels_last -> torch.compile), so each
change's effect is its own row. ``--sync-check`` counts host-device syncs inside
the denoising loop (CUDA only: torch.cuda.set_sync_debug_mode).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import flop_count  # noqa: E402

from engine.pipeline import speed  # noqa: E402

H100_BF16_TFLOPS = 790.0
ID_DIM = 512  # FaceID's ArcFace embedding (the production adapter's input)
PROMPT = "portrait photo of a person, wearing a suit, studio background, soft light"
NEGATIVE = "blurry, deformed, watermark"


@dataclass(frozen=True)
class Path_:
    name: str
    steps: int
    guidance: float


def paths(which: str, quality_steps: int) -> list[Path_]:
    all_ = [Path_("quality", quality_steps, 5.0), Path_("fast", speed.FAST_STEPS, 0.0)]
    return [p for p in all_ if which in ("both", p.name)]


# --- building ----------------------------------------------------------------------------
def nested_adapter_state(flat: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The h94 key layout as ``load_ip_adapter`` takes it in memory."""
    return {
        group: {k.split(".", 1)[1]: v for k, v in flat.items() if k.startswith(group + ".")}
        for group in ("image_proj", "ip_adapter")
    }


def faceid_state(unet: Any, id_dim: int) -> dict[str, Any]:
    """Plain IP-Adapter FaceID layers (h94 keys, random): 4 identity tokens, the same
    UNet work as FaceID Plus v2's 4 tokens, with a projection that needs no CLIP
    features, so the FLOP counts below are those of issue 7."""
    import torch

    from engine.pipeline.adapter_random import FACEID_TOKENS, ip_layers

    cross = int(unet.config.cross_attention_dim)
    zeros, ones = torch.zeros, torch.ones
    state = {
        "image_proj.proj.0.weight": zeros(id_dim * 2, id_dim),
        "image_proj.proj.0.bias": zeros(id_dim * 2),
        "image_proj.proj.2.weight": zeros(cross * FACEID_TOKENS, id_dim * 2),
        "image_proj.proj.2.bias": zeros(cross * FACEID_TOKENS),
        "image_proj.norm.weight": ones(cross),
        "image_proj.norm.bias": zeros(cross),
    }
    return {**state, **ip_layers(unet)}


def meta_pipeline(config: str) -> Any:
    """The pipeline with the adapter's layers, on the meta device for SDXL (shapes, no
    memory); the tiny model is built on the CPU."""
    import torch

    if config == "sdxl":
        from engine.pipeline.configs import build_sdxl

        pipe, device = build_sdxl("meta"), "meta"
    else:  # small enough to count on the CPU (its scheduler cannot live on meta)
        from engine.pipeline.tiny import tiny_sdxl

        pipe, device = tiny_sdxl(), "cpu"
    with torch.device(device):
        state = faceid_state(pipe.unet, ID_DIM)
    pipe.load_ip_adapter(
        nested_adapter_state(state), subfolder="", weight_name="", image_encoder_folder=None
    )
    return pipe


def side_for(config: str) -> int:
    return 1024 if config == "sdxl" else 64


def load_sdxl(device: str, dtype: Any, models_dir: Path) -> Any:
    """Random-weight SDXL on ``device`` with the engine's random FaceID Plus v2 adapter
    (512-d; its CLIP encoder is the tiny one), wrapped as the engine's LoadedPipeline."""
    from engine.pipeline.adapter import FACEID_PLUSV2, choose_adapter, load_adapter
    from engine.pipeline.configs import build_sdxl
    from engine.pipeline.loader import FAMILY_DEFAULTS, LoadedPipeline, Optimisations

    pipe = build_sdxl(device, dtype)
    from engine.families.sdxl import SDXL

    files = SDXL.adapter_files_for(FACEID_PLUSV2)
    assert files is not None
    spec = choose_adapter(
        files=files,
        tiny=True,  # random weights in the real layout
        kind=FACEID_PLUSV2,
        id_dim=ID_DIM,
        unet=pipe.unet,
        models_dir=models_dir,
    )
    load_adapter(pipe, spec, None)
    pipe.to(device=device, dtype=dtype)
    pipe.set_progress_bar_config(disable=True)
    return LoadedPipeline(
        pipe=pipe,
        family="sdxl",
        model="sdxl-base-1.0 architecture, random weights",
        tiny=False,
        device=device,
        opts=Optimisations(dtype=dtype, sdpa=False),
        defaults=FAMILY_DEFAULTS["sdxl"],
        adapter=spec,
    )


def load_tiny(device: str, models_dir: Path) -> Any:
    """The tiny model through the engine's own loader (adapter + speedups included)."""
    from engine.pipeline.loader import load_pipeline
    from sitter.config import load_settings

    settings = load_settings(
        model="tiny", device=device, model_cache=models_dir, face_backend="insightface"
    )
    return load_pipeline(settings)


# --- measuring ---------------------------------------------------------------------------
def tflop(flops: int) -> str:
    return f"{flops / 1e12:10.4f} TFLOP" if flops >= 1e10 else f"{flops / 1e9:10.4f} GFLOP"


def cpu_matmul_tflops() -> float:
    """This CPU's float32 matrix-product rate (the CPU floor's denominator)."""
    import torch

    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    a @ b
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < 0.3:
        a @ b
        n += 1
    return n * 2 * 1024**3 / (time.perf_counter() - started) / 1e12


def cuda_matmul_tflops(n: int = 8192) -> float:
    """This GPU's bf16 dense rate on random data (METHOD.md: measure the ceiling)."""
    import torch

    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(10):
        a @ b
    end.record()
    torch.cuda.synchronize()
    return 10 * 2 * n**3 / (start.elapsed_time(end) / 1e3) / 1e12


def peak_memory_mb(device: str) -> float:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def render_job(loaded: Any, p: Path_, side: int, images: int, scale: float = 0.8) -> float:
    """One order through the engine's render(); returns seconds."""
    import numpy as np

    from engine.pipeline.generate import Resolved, render
    from engine.pipeline.identity_input import placeholder_crops

    params = Resolved(p.steps, p.guidance, side, side, scale)
    params = speed.choose_path(loaded, params)
    refs = np.random.default_rng(0).standard_normal((3, loaded.id_dim)).astype(np.float32)
    sync(loaded.device)
    started = time.perf_counter()
    out = render(
        loaded,
        prompt=PROMPT,
        negative_prompt=NEGATIVE,
        params=params,
        seeds=list(range(images)),
        refs=refs,
        crops=placeholder_crops(),
    )
    sync(loaded.device)
    seconds = time.perf_counter() - started
    assert len(out) == images and out[0].size == (side, side), "render returned the wrong images"
    return seconds


class _UNetSpy:
    """Stands in for ``pipe.unet`` and sees every call from the pipeline, outside any
    compiled region (a forward hook on a compiled module would be traced into it)."""

    def __init__(self, unet: Any, on_call: Any) -> None:
        self._unet, self._on_call = unet, on_call

    def __call__(self, sample: Any, *args: Any, **kwargs: Any) -> Any:
        self._on_call(sample)
        return self._unet(sample, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._unet, name)


def _spying(pipe: Any, on_call: Any) -> Any:
    unet = pipe.unet
    object.__setattr__(pipe, "unet", _UNetSpy(unet, on_call))  # skip the config bookkeeping
    return unet


def unet_calls(loaded: Any, p: Path_, side: int, images: int) -> tuple[int, int]:
    """(UNet calls, largest batch) for a 2-step order: CFG batched means 2 calls."""
    calls: list[int] = []
    unet = _spying(loaded.pipe, lambda sample: calls.append(int(sample.shape[0])))
    try:
        render_job(loaded, Path_(p.name, 2, p.guidance), side, images)
    finally:
        object.__setattr__(loaded.pipe, "unet", unet)
    return len(calls), max(calls)


def sync_check(loaded: Any, p: Path_, side: int, images: int) -> int | None:
    """Host-device syncs from the first UNet call to the VAE decode (CUDA only)."""
    import torch

    if not loaded.device.startswith("cuda"):
        return None
    pipe = loaded.pipe
    decode = pipe.vae.decode

    def decode_unwatched(*a: Any, **kw: Any) -> Any:
        torch.cuda.set_sync_debug_mode(0)
        return decode(*a, **kw)

    unet = _spying(pipe, lambda _s: torch.cuda.set_sync_debug_mode("warn"))
    pipe.vae.decode = decode_unwatched
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            render_job(loaded, p, side, images)
    finally:
        object.__setattr__(pipe, "unet", unet)
        del pipe.vae.decode
        torch.cuda.set_sync_debug_mode(0)
    syncs = [w for w in seen if "synchroniz" in str(w.message).lower()]
    for w in syncs[:5]:
        print(f"  sync: {w.filename}:{w.lineno}: {w.message}", file=sys.stderr)
    return len(syncs)


def measure(
    loaded: Any, args: argparse.Namespace, flops: flop_count.Flops, peak: float, label: str
):
    import torch

    side = args.side or side_for(args.config)
    rows = []
    for p in paths(args.path, args.quality_steps):
        warm = [render_job(loaded, p, side, args.images) for _ in range(args.warmup)]
        if not warm and label.startswith("+compile"):
            warm = [render_job(loaded, p, side, args.images)]  # compiles here: not timed
        if warm:
            print(f"  ({label}, {p.name}: warm-up job {warm[0]:.2f}s)", flush=True)
        if loaded.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        times = [render_job(loaded, p, side, args.images) for _ in range(args.repeats)]
        med = statistics.median(times)
        cfg = p.guidance > 1.0
        floor = flops.job(args.images, p.steps, cfg) / (peak * 1e12)
        rows.append(
            {
                "variant": label,
                "path": p.name,
                "steps": p.steps,
                "cfg": cfg,
                "size": side,
                "images": args.images,
                "s_per_job": med,
                "s_min": min(times),
                "images_per_s": args.images / med,
                "floor_s": floor,
                "ratio": med / floor,
                "peak_mb": peak_memory_mb(loaded.device),
                "first_s": warm[0] if warm else None,  # compiled: compile + one job
                "measured_tflops": getattr(args, "measured_tflops", None),
                "rate_tflops": peak,  # the floor's rate
            }
        )
        print_row(rows[-1], flush=True)
    return rows


HEADER = (
    f"{'variant':<38} {'path':<8} {'steps':>5} {'cfg':>4} {'size':>5} {'s/job':>9} "
    f"{'min':>9} {'img/s':>8} {'floor s':>9} {'x floor':>8} {'peak MiB':>9} {'1st job s':>9}"
)


def print_row(r: dict[str, Any], flush: bool = False) -> None:
    print(
        f"{r['variant']:<38} {r['path']:<8} {r['steps']:>5} {'yes' if r['cfg'] else 'no':>4} "
        f"{r['size']:>5} {r['s_per_job']:>9.4f} {r['s_min']:>9.4f} {r['images_per_s']:>8.2f} "
        + (
            f"{r['floor_s']:>9.4f} {r['ratio']:>8.1f} "
            if r.get("floor_s")
            else f"{'-':>9} {'-':>8} "
        )
        + f"{r['peak_mb']:>9.0f} "
        + (f"{r['first_s']:>9.2f}" if r.get("first_s") is not None else f"{'-':>9}"),
        flush=flush,
    )


def ladder_steps(loaded: Any, args: argparse.Namespace) -> list[tuple[str, Any]]:
    """Cumulative switches: each rung adds one to the previous rung's pipeline."""
    pipe = loaded.pipe
    mode = "trace" if args.compile == "trace" else args.compile_mode

    def classic() -> None:
        speed.set_classic_attention(pipe.unet)
        speed.set_classic_attention(pipe.vae)

    def rung(**kw: Any) -> Any:
        kw.setdefault("fuse", False)
        kw.setdefault("channels_last", False)
        kw.setdefault("compile", False)
        return lambda: speed.apply_speedups(
            loaded,
            compile_mode=args.compile_mode,
            compile_backend="eager" if args.compile == "trace" else "inductor",
            fast_path=False,
            **kw,
        )

    return [
        ("classic-attention", classic),
        ("+sdpa", rung()),
        ("+fused-qkv", rung(fuse=True)),
        (
            "+channels_last" if not args.pair else "all-switches",
            rung(fuse=True, channels_last=True),
        ),
        (f"+compile({mode})", rung(fuse=True, channels_last=True, compile=True)),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--config",
        choices=("sdxl", "tiny", "klein", "tiny-klein", "tiny-qwen-edit"),
        default="tiny",
    )
    ap.add_argument("--device", choices=("cuda", "cpu"), default=None)
    ap.add_argument("--path", choices=("quality", "fast", "both"), default="both")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1, help="untimed jobs before timing")
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--quality-steps", type=int, default=30)
    ap.add_argument("--side", type=int, default=0, help="image side in px (default 1024/64)")
    ap.add_argument("--dry", action="store_true", help="meta device only: params and FLOPs")
    ap.add_argument(
        "--compile", default="auto", help="auto (CUDA only), on, off; klein: trace (CPU check)"
    )
    ap.add_argument("--steps", type=int, default=4, help="klein: steps per job")
    ap.add_argument("--refs", type=int, default=4, help="klein: reference images per job")
    ap.add_argument("--ref-input", type=int, default=1024, help="klein: references' side in px")
    ap.add_argument(
        "--compile-mode", default=speed.DEFAULT_COMPILE_MODE, choices=speed.COMPILE_MODES
    )
    ap.add_argument("--no-fuse", action="store_true")
    ap.add_argument(
        "--static-shapes",
        action="store_true",
        help="compile one static graph per shape (no dynamic batch after the 2nd shape)",
    )
    ap.add_argument("--ladder", action="store_true", help="measure each switch in turn")
    ap.add_argument(
        "--pair",
        action="store_true",
        help="two rows per path: every switch but compile, then + compile (the worker's path)",
    )
    ap.add_argument(
        "--table", nargs="+", type=Path, metavar="JSON", help="print these runs' rows; no run"
    )
    ap.add_argument("--sync-check", action="store_true")
    ap.add_argument("--peak-tflops", type=float, default=0.0, help="override the floor's rate")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    ap.add_argument("--force", action="store_true", help="allow --config sdxl on a CPU")
    ap.add_argument(
        "--train",
        action="store_true",
        help="klein / tiny-klein: a personal model's training step (floor; timed unless --dry)",
    )
    ap.add_argument("--train-steps", type=int, default=30, help="--train: steps timed")
    ap.add_argument("--rank", type=int, default=16, help="--train: the LoRA's rank")
    args = ap.parse_args(argv)
    if args.table:
        rows = [r for f in args.table if f.exists() for r in json.loads(f.read_text())]
        missing = [str(f) for f in args.table if not f.exists()]
        print_rows(rows)
        if missing:
            print(f"(no rows from {', '.join(missing)}: see its log)")
        return 0
    if args.repeats < 1 or args.images < 1:
        ap.error("--repeats and --images must be at least 1")

    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available() and not args.dry:
        ap.error("--device cuda: torch sees no CUDA GPU here (use --dry or --device cpu)")
    side = args.side or side_for(args.config)
    if side % 8:
        ap.error("--side must be a multiple of 8")
    if args.train:
        if args.config not in ("klein", "tiny-klein"):
            ap.error("--train: --config klein or tiny-klein")
        if args.config == "klein" and device == "cpu" and not args.dry:
            ap.error("--train --config klein on a CPU: use --dry, or tiny-klein")
        import bench_train

        rows = bench_train.main(args, device)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2))
        return 0
    if args.config in ("sdxl", "klein") and device == "cpu" and not args.dry and not args.force:
        ap.error(
            f"{args.config} on a CPU needs tens of GB and hours: "
            "use --dry, a tiny config, or --force"
        )
    if args.config in ("klein", "tiny-klein", "tiny-qwen-edit"):
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import bench_klein
        import bench_qwen

        family_main = bench_qwen.main if args.config == "tiny-qwen-edit" else bench_klein.main
        rows = family_main(args, device)
        if rows is None:
            return 0
        print_table(rows, args)
        return 0

    # 1. The floor, on the meta device.
    started = time.perf_counter()
    meta = meta_pipeline(args.config)
    flops = flop_count.count_flops(meta, side // 8, ID_DIM)
    plain = None
    if args.config == "sdxl":
        from engine.pipeline.configs import build_sdxl, parameter_counts

        plain_pipe = build_sdxl("meta")
        counts = parameter_counts(plain_pipe)
        adapter = parameter_counts(meta)["unet"] - counts["unet"]
        plain = flop_count.count_flops(plain_pipe, side // 8, None)
        print(
            "parameters: "
            + ", ".join(f"{k} {v / 1e9:.3f} B" for k, v in counts.items())
            + f", FaceID adapter layers {adapter / 1e9:.3f} B"
        )
    print(f"FLOPs counted on the meta device in {time.perf_counter() - started:.1f}s, {side}px:")
    if plain is not None:
        print(f"  UNet forward (no adapter)      {tflop(plain.unet)}")
    print(f"  UNet forward (+ FaceID layers) {tflop(flops.unet)}")
    print(f"  VAE decode                     {tflop(flops.vae_decode)}")
    print(f"  text encoders (one prompt)     {tflop(flops.text)}")
    for p in paths(args.path, args.quality_steps):
        job = flops.job(args.images, p.steps, p.guidance > 1.0)
        print(
            f"  {p.name} job ({args.images} images, {p.steps} steps"
            f"{', CFG' if p.guidance > 1.0 else ''}): {tflop(job)} = "
            f"{job / (H100_BF16_TFLOPS * 1e12):.4g} s at {H100_BF16_TFLOPS:.0f} TFLOP/s (H100 bf16)"
        )
    del meta
    if args.dry:
        return 0

    # 2. The real pipeline on the device.
    if device == "cuda":
        peak = args.peak_tflops or H100_BF16_TFLOPS
        dtype = torch.bfloat16
        args.measured_tflops = cuda_matmul_tflops()
        print(f"measured bf16 8192^3 matrix product: {args.measured_tflops:.0f} TFLOP/s")
    else:
        peak = args.peak_tflops or cpu_matmul_tflops()
        dtype = torch.float32
    source = "H100 bf16 dense" if device == "cuda" else "measured fp32 matrix product"
    print(f"floor rate: {peak:.3f} TFLOP/s ({'given' if args.peak_tflops else source})")
    models_dir = Path(tempfile.mkdtemp(prefix="bench-speed-"))
    started = time.perf_counter()
    loaded = (
        load_sdxl(device, dtype, models_dir)
        if args.config == "sdxl"
        else load_tiny(device, models_dir)
    )
    print(f"loaded {args.config} on {device} in {time.perf_counter() - started:.1f}s")
    trace = args.compile == "trace"  # graph capture only (dynamo, eager backend): CPU checks
    compile_on = trace or speed.compile_wanted(args.compile, device)

    info = torch.cuda.get_device_name() if device == "cuda" else os.uname().machine
    import diffusers

    print(f"device: {info}; torch {torch.__version__}; diffusers {diffusers.__version__}")
    print(HEADER)
    rows: list[dict[str, Any]] = []
    if args.ladder or args.pair:
        steps = ladder_steps(loaded, args)
        for label, step in steps[-2:] if args.pair else steps:
            if label.startswith("+compile") and not compile_on:
                continue
            t0 = time.perf_counter()
            step()
            firsts: dict[str, float] = {}
            if label.startswith("+compile"):
                for p in paths(args.path, args.quality_steps):
                    firsts[p.name] = render_job(loaded, p, side, args.images)  # compiles
                print(f"  (compile + first jobs: {time.perf_counter() - t0:.0f}s)", flush=True)
            new = measure(loaded, args, flops, peak, label)
            for r in new:  # a compiled row's first job: compile at that shape + one job
                r["first_s"] = firsts.get(r["path"], r["first_s"])
            rows += new
            save_rows(rows, args)  # a run cut short by its timeout keeps its rows
    else:
        state = speed.apply_speedups(
            loaded,
            compile_on,
            fuse=not args.no_fuse,
            compile_mode=args.compile_mode,
            static_shapes=args.static_shapes,
        )
        print(f"switches: {state.describe()}; skipped: {state.skipped or 'none'}", flush=True)
        label = "all-switches" + (f"+compile({args.compile_mode})" if state.compiled else "")
        rows += measure(loaded, args, flops, peak, label)
        save_rows(rows, args)
    for p in paths(args.path, args.quality_steps):
        calls, batch = unet_calls(loaded, p, side, args.images)
        if p.guidance > 1:
            how = f"CFG batched: {calls == 2 and batch == 2 * args.images}"
        else:
            how = "no CFG"
        print(f"{p.name}: {calls} UNet calls for 2 steps, batch {batch} ({how})")
    if args.sync_check:
        for p in paths(args.path, args.quality_steps):
            n = sync_check(loaded, p, side, args.images)
            found = "n/a on CPU" if n is None else n
            print(f"{p.name}: host-device syncs inside the denoising loop: {found}")
    print_table(rows, args)
    return 0


def print_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """The table, last (a device call's output tail holds it); the rows as JSON."""
    print()
    print_rows(rows)
    save_rows(rows, args)


def print_rows(rows: list[dict[str, Any]]) -> None:
    """The table; then each row against the floor at the bf16 rate measured in its run."""
    print(HEADER)
    for r in rows:
        print_row(r)
    for r in rows:
        if r.get("measured_tflops"):
            floor = r["floor_s"] * r.get("rate_tflops", H100_BF16_TFLOPS) / r["measured_tflops"]
            print(
                f"  {r['variant']} {r['path']}: floor {floor:.4f} s at the measured "
                f"{r['measured_tflops']:.0f} TFLOP/s, x{r['s_per_job'] / floor:.2f}"
            )


def save_rows(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    sys.exit(main())
