"""A personal model's training step against the hardware's floor (issue 23).

Called by ``bench_speed.py --train``. The floor: FLOPs of one training step counted
with torch.utils.flop_counter on the meta device (FLUX.2 [klein] 4B's architecture,
no weights): the transformer's forward at the training side (512 px: 1,024 image
tokens beside the 512 text tokens the pipeline pads prompts to) and its backward
through the frozen weights to the LoRA's (input gradients only; the LoRA's own are
under 1% at rank 16), over 790 TFLOP/s (H100 bf16 dense). Without ``--dry`` it then
times the engine's own loop (engine/training/loop.py ``train_lora``, the GPU lock and
the adapter switched on and off around each step, as in a worker) on cached samples
of the training side: the 4B architecture with random weights on a GPU, or the tiny
model through the production loader on a CPU.

    .venv/bin/python benchmarks/bench_speed.py --config klein --train --dry
    python3 benchmarks/bench_speed.py --config klein --device cuda --train --train-steps 30
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

H100_BF16_TFLOPS = 790.0
TEXT_TOKENS = 512


def step_flops(pipe: Any, side: int, text_tokens: int = TEXT_TOKENS) -> tuple[int, int]:
    """(forward, forward + backward) FLOPs of one training step, batch 1."""
    import torch
    from flop_count import _ids
    from torch.utils.flop_counter import FlopCounterMode

    tr = pipe.transformer
    device, dtype = tr.device, tr.dtype
    grid = side // (int(pipe.vae_scale_factor) * 2)
    img_ids = _ids(0, grid, grid, device)
    txt_ids = torch.zeros(1, text_tokens, 4, dtype=torch.long, device=device)
    hidden = torch.randn(1, grid * grid, int(tr.config.in_channels), device=device, dtype=dtype)
    hidden.requires_grad_(True)  # the gradient flows back through the frozen weights
    width = int(tr.config.joint_attention_dim)
    text = torch.randn(1, text_tokens, width, device=device, dtype=dtype)
    frozen = [p.requires_grad for p in tr.parameters()]
    for p in tr.parameters():
        p.requires_grad_(False)
    counter = FlopCounterMode(display=False)
    try:
        with counter:
            out = tr(
                hidden_states=hidden,
                timestep=torch.tensor([0.5], device=device, dtype=dtype),
                guidance=None,
                encoder_hidden_states=text,
                txt_ids=txt_ids,
                img_ids=img_ids,
                return_dict=False,
            )[0]
            forward = int(counter.get_total_flops())
            out.float().pow(2).mean().backward()
    finally:
        for p, was in zip(tr.parameters(), frozen, strict=True):
            p.requires_grad_(was)
    return forward, int(counter.get_total_flops())


def floor(args: argparse.Namespace, side: int) -> dict[str, float]:
    """Count on the meta device (the 4B model) or the CPU (tiny); print the floor."""
    started = time.perf_counter()
    if args.config == "klein":
        from engine.pipeline.configs.klein import build_klein

        pipe = build_klein("meta")
    else:
        from engine.pipeline.tiny_klein import build_tiny_klein

        pipe = build_tiny_klein()
    forward, step = step_flops(pipe, side)
    params = sum(p.numel() for p in pipe.transformer.parameters())
    thousand = 1000 * step / (H100_BF16_TFLOPS * 1e12)
    print(
        f"training step floor ({args.config}, {params / 1e9:.3f} B transformer, {side}px, "
        f"{TEXT_TOKENS} text tokens; counted in {time.perf_counter() - started:.1f}s):\n"
        f"  forward {forward / 1e12:.4f} TFLOP + backward to the LoRA "
        f"{(step - forward) / 1e12:.4f} TFLOP = {step / 1e12:.4f} TFLOP per step\n"
        f"  1,000 steps: {1000 * step / 1e15:.2f} PFLOP = {thousand:.1f} s at "
        f"{H100_BF16_TFLOPS:.0f} TFLOP/s (H100 bf16 dense); the full-weight training rule "
        f"(3 x forward) would be {3000 * forward / (H100_BF16_TFLOPS * 1e12):.1f} s"
    )
    return {"step_flops": float(step), "forward_flops": float(forward), "floor_1000_s": thousand}


def measure(
    args: argparse.Namespace, device: str, side: int, counted: dict[str, float]
) -> dict[str, Any]:
    """Time ``--train-steps`` steps of the engine's loop on cached samples."""
    import tempfile
    from pathlib import Path

    import torch
    from bench_klein import load

    from engine.families.train_klein import KleinTrainer
    from engine.training.base import Sample
    from engine.training.loop import train_lora

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    loaded = load(args, device, dtype, Path(tempfile.mkdtemp(prefix="bench-train-")))
    trainer = KleinTrainer(loaded)
    pipe = loaded.pipe
    grid = side // int(pipe.vae_scale_factor)
    ch = int(pipe.vae.config.latent_channels) * 4
    gen = torch.Generator("cpu").manual_seed(0)
    latents = torch.randn(1, ch, grid // 2, grid // 2, generator=gen).to(device, dtype)
    hidden = int(pipe.transformer.config.joint_attention_dim)
    embeds = torch.randn(1, TEXT_TOKENS, hidden, generator=gen).to(device, dtype)
    ids = pipe._prepare_text_ids(embeds).to(device)
    samples = [Sample(latents, {"embeds": embeds, "ids": ids})]
    steps = max(2, args.train_steps)
    times: list[float] = []
    last = [time.perf_counter()]

    def done(step: int, loss: float) -> None:
        if device == "cuda":
            torch.cuda.synchronize()
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    from engine.training.loop import Hooks

    train_lora(
        trainer, samples, steps=steps, rank=args.rank, seed=0, lock=threading.Lock(),
        hooks=Hooks(done=done),
    )  # fmt: skip
    per = sorted(times[1:])[len(times[1:]) // 2]  # the median after the first (warm-up) step
    floor_s = counted["step_flops"] / (H100_BF16_TFLOPS * 1e12)
    row = {
        "config": args.config,
        "device": device,
        "side": side,
        "rank": args.rank,
        "steps": steps,
        "s_per_step": per,
        "s_per_1000": per * 1000,
        "floor_s_per_step": floor_s,
        "x_floor": per / floor_s,
    }
    print(
        f"measured: {per * 1000:.1f} ms per step (median of {steps - 1} after one), "
        f"{per * 1000 / 60:.2f} min per 1,000 steps on {device}; {per / floor_s:.1f}x the "
        f"H100 floor"
    )
    return row


def main(args: argparse.Namespace, device: str) -> list[dict[str, Any]]:
    side = args.side or (512 if args.config == "klein" else 64)
    counted = floor(args, side)
    if args.dry:
        return [{"config": args.config, "side": side, **counted}]
    return [{**counted, **measure(args, device, side, counted)}]
