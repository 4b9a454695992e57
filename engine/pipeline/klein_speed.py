"""FLUX.2 [klein]'s speed switches (its work is counted by benchmarks/flop_count.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from engine.pipeline.loaded import Speedups

if TYPE_CHECKING:
    from engine.pipeline.loaded import LoadedPipeline

log = logging.getLogger(__name__)


def apply_speedups(
    loaded: LoadedPipeline,
    compile: bool,
    *,
    compile_mode: str = "max-autotune-no-cudagraphs",
    compile_backend: str = "inductor",
    fullgraph: bool = True,
) -> Speedups:
    """klein's switches: bf16 (the loader's dtype), SDPA (diffusers' own attention
    dispatch for Flux2 is ``scaled_dot_product_attention`` already), TF32 for fp32
    leftovers on CUDA, and torch.compile of the transformer and the VAE decoder.
    The same :class:`engine.pipeline.loaded.Speedups` record as SDXL's becomes
    ``loaded.speed``."""
    import torch

    pipe, device, dtype = loaded.pipe, loaded.device, loaded.opts.dtype
    state = Speedups(device=device, dtype=dtype, fast_path=False)
    state.applied.append(str(dtype).removeprefix("torch."))
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
        state.applied.append("tf32+cudnn.benchmark")
    state.applied.append("sdpa(diffusers dispatch)")
    state.skipped["fused-qkv"] = "Flux2's single blocks are fused already; double blocks: not tried"
    state.schedulers = {"quality": pipe.scheduler, "fast": pipe.scheduler}
    if compile:
        for module in (pipe.transformer, pipe.vae.decoder):
            if compile_backend == "inductor":
                module.compile(mode=compile_mode, fullgraph=fullgraph)
            else:  # tests: graph capture without inductor's compile time
                module.compile(backend=compile_backend, fullgraph=fullgraph)
        state.compiled = True
        state.applied.append(
            f"compile({compile_mode if compile_backend == 'inductor' else compile_backend})"
        )
    else:
        state.skipped["compile"] = "off (SITTER_COMPILE=auto is on for CUDA only)"
    loaded.speed = state
    log.info("klein speedups: %s; skipped: %s", state.describe(), state.skipped or "none")
    return state
