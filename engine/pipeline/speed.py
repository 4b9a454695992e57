"""The speed switches of the generation path, applied once per loaded pipeline.

``apply_speedups(loaded, compile)`` is called by the loader after the identity
adapter is loaded and the pipeline is on its device; what it did is kept as the
loaded pipeline's ``speed`` field (:class:`engine.pipeline.loaded.Speedups`), which
:func:`choose_path` reads for each render. What each
switch does and why (the H100 figures are predictions until a GPU session
measures them with benchmarks/bench_speed.py):

- bf16 on CUDA (chosen by the loader's ``Optimisations``): the tensor cores'
  dense rate; SDXL's VAE is safe in bf16 (fp32's exponent range, so none of
  the fp16 overflow that ``force_upcast`` guards against; diffusers upcasts it
  to fp32 only for float16).
- SDPA attention processors (``AttnProcessor2_0``) on every plain processor;
  on CUDA, SDPA dispatches to flash / cuDNN attention by itself for bf16.
  IP-Adapter processors already call SDPA and are kept as they are.
- Fused self-attention QKV (one matrix product instead of three) where the
  processor is a plain one. diffusers' ``fuse_qkv_projections()`` would replace
  EVERY processor with ``FusedAttnProcessor2_0``, dropping the IP-Adapter's
  processors and with them the identity, so the fusing here is per module and
  skips the adapter's cross-attention processors.
- channels_last for UNet and VAE on CUDA (cuDNN's NHWC convolution kernels).
- ``torch.compile`` of the UNet and the VAE decoder, in place (``Module.compile``,
  so the pipeline still sees the same module class), with a warm-up at the
  production shapes (engine.pipeline.generate.warm_up) so no order pays for compilation.
- CFG is already one UNet call: diffusers' SDXL pipeline concatenates the
  unconditional and conditional latents into one batch (tests check it).
- No host-device sync in the denoising loop: the SDXL pipeline calls
  ``scheduler.set_begin_index(0)`` (no ``nonzero().item()`` at step 0) and
  EulerDiscreteScheduler keeps its sigmas on the CPU, so per-step lookups are
  host scalars; ``bench_speed.py --sync-check`` proves it on CUDA with
  ``torch.cuda.set_sync_debug_mode``.
- The fast path (:func:`choose_path`): 4 steps without guidance, with
  EulerDiscreteScheduler and ``timestep_spacing="trailing"`` (SDXL-Lightning's
  recipe), when a style asks for <= 8 steps at guidance <= 1 or the worker is
  set to fast (``SITTER_FAST_PATH``, for a distilled model).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from engine.pipeline.loaded import Speedups

if TYPE_CHECKING:
    from engine.pipeline.loaded import LoadedPipeline

log = logging.getLogger(__name__)

COMPILE_MODES = ("max-autotune-no-cudagraphs", "max-autotune", "reduce-overhead", "default")
DEFAULT_COMPILE_MODE = "max-autotune-no-cudagraphs"
FAST_STEPS = 4
FAST_MAX_STEPS = 8  # a style asking for this few steps without guidance is a fast style


def compile_wanted(setting: str | bool | None, device: str) -> bool:
    """SITTER_COMPILE: auto (on for CUDA, off elsewhere), on or off."""
    value = str(setting if setting is not None else "auto").strip().lower()
    if value in ("auto", ""):
        return device.startswith("cuda")
    if value in ("on", "true", "1", "yes"):
        return True
    if value in ("off", "false", "0", "no"):
        return False
    raise ValueError(f"SITTER_COMPILE={setting!r}: use auto, on or off")


def _is_ip_adapter(proc: Any) -> bool:
    return "IPAdapter" in type(proc).__name__


def set_sdpa(model: Any) -> int:
    """SDPA processors on every attention processor not already on SDPA; returns how
    many were replaced (IP-Adapter and fused processors already call SDPA)."""
    from diffusers.models.attention_processor import AttnProcessor2_0, FusedAttnProcessor2_0

    def keep(proc: Any) -> bool:
        return _is_ip_adapter(proc) or isinstance(proc, (AttnProcessor2_0, FusedAttnProcessor2_0))

    procs = model.attn_processors
    model.set_attn_processor({n: p if keep(p) else AttnProcessor2_0() for n, p in procs.items()})
    return sum(not keep(p) for p in procs.values())


def set_classic_attention(model: Any) -> None:
    """The pre-SDPA attention (explicit softmax(QK^T)V): the benchmark's baseline only."""
    from diffusers.models.attention_processor import AttnProcessor

    procs = model.attn_processors
    model.set_attn_processor(
        {n: p if _is_ip_adapter(p) else AttnProcessor() for n, p in procs.items()}
    )


def fuse_projections(model: Any) -> int:
    """Fuse q/k/v (self-attention) or k/v (plain cross-attention) into one matrix
    product, module by module, leaving IP-Adapter processors alone; returns how
    many attention modules run fused (including ones fused before)."""
    from diffusers.models.attention_processor import Attention, FusedAttnProcessor2_0

    fused = 0
    for name, module in model.named_modules():
        if not isinstance(module, Attention) or _is_ip_adapter(module.processor):
            continue
        if name.startswith("encoder_hid_proj."):
            continue  # the adapter's resampler: its "self"-attention is called with context
        if "Added" in type(module.processor).__name__:
            continue  # added-KV processors have no fused variant
        if not getattr(module, "fused_projections", False):
            module.fuse_projections(fuse=True)
        if not isinstance(module.processor, FusedAttnProcessor2_0):
            module.set_processor(FusedAttnProcessor2_0())
        fused += 1
    return fused


def _compile(module: Any, mode: str, backend: str, fullgraph: bool) -> None:
    if backend == "inductor":
        module.compile(mode=mode, fullgraph=fullgraph)
    else:  # "eager"/"aot_eager": tests check graph capture without inductor's compile time
        module.compile(backend=backend, fullgraph=fullgraph)


def _fuse(pipe: Any, state: Speedups, fuse: bool) -> None:
    """Fused QKV projections in the UNet and VAE (the IP-Adapter's processors stay)."""
    if not fuse:
        state.skipped["fused-qkv"] = "switched off"
        return
    n = fuse_projections(pipe.unet) + fuse_projections(pipe.vae)
    state.applied.append(f"fused-qkv({n})")
    if any(_is_ip_adapter(p) for p in pipe.unet.attn_processors.values()):
        state.skipped["fused-qkv on IP-Adapter cross-attention"] = (
            "diffusers has no fused IP-Adapter processor; fuse_qkv_projections() "
            "would drop the identity adapter"
        )


def _compile_unet_and_decoder(
    loaded: LoadedPipeline,
    state: Speedups,
    mode: str,
    backend: str,
    fullgraph: bool,
    static_shapes: bool,
) -> None:
    """torch.compile in place, once (a pipeline compiled before is left as it is)."""
    import torch
    from diffusers.utils.torch_utils import is_compiled_module

    pipe, before = loaded.pipe, loaded.speed
    if is_compiled_module(pipe.unet) or (before is not None and before.compiled):
        state.compiled = True
        state.skipped["compile"] = "already compiled"
        return
    if static_shapes:
        # One static graph per shape (faster kernels, a compile per new batch size or
        # resolution) instead of dynamo's switch to a dynamic batch dimension at the
        # second shape it sees.
        torch._dynamo.config.automatic_dynamic_shapes = False
        torch._dynamo.config.cache_size_limit = max(64, torch._dynamo.config.cache_size_limit)
    _compile(pipe.unet, mode, backend, fullgraph)
    _compile(pipe.vae.decoder, mode, backend, fullgraph)
    state.compiled = True
    state.applied.append(f"compile({mode if backend == 'inductor' else backend})")


def apply_speedups(
    loaded: LoadedPipeline,
    compile: bool,
    *,
    fuse: bool = True,
    channels_last: bool | None = None,
    compile_mode: str = DEFAULT_COMPILE_MODE,
    compile_backend: str = "inductor",
    fullgraph: bool = True,
    fast_path: bool = False,
    static_shapes: bool = False,
) -> Speedups:
    """Apply every speed switch to ``loaded.pipe`` (once, after the adapter is loaded)
    on its device and dtype; the record becomes ``loaded.speed``."""
    import torch

    pipe, device, dtype = loaded.pipe, loaded.device, loaded.opts.dtype

    if compile_mode not in COMPILE_MODES:
        raise ValueError(f"compile mode {compile_mode!r}: use one of {', '.join(COMPILE_MODES)}")
    on_cuda = device.startswith("cuda")
    state = Speedups(device=device, dtype=dtype, fast_path=fast_path)
    state.applied.append(str(dtype).removeprefix("torch."))
    if on_cuda:
        # Only the fp32 leftovers (e.g. an upcast VAE) are affected; bf16 is bf16.
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
        state.applied.append("tf32+cudnn.benchmark")

    # 1. Attention: SDPA everywhere (flash/cuDNN kernels on CUDA in bf16).
    set_sdpa(pipe.unet)
    set_sdpa(pipe.vae)
    state.applied.append("sdpa")

    # 2. Fused projections, except on the identity adapter's processors.
    _fuse(pipe, state, fuse)

    # 3. Memory format.
    if channels_last is None:
        channels_last = on_cuda
    if channels_last:
        pipe.unet.to(memory_format=torch.channels_last)
        pipe.vae.to(memory_format=torch.channels_last)
        state.applied.append("channels_last")

    # 4. Scheduler for each path (the fast one is built now, not per order).
    state.schedulers = {"quality": pipe.scheduler, "fast": fast_scheduler(pipe.scheduler)}

    # 5. torch.compile, in place, UNet and VAE decoder.
    if compile:
        _compile_unet_and_decoder(
            loaded, state, compile_mode, compile_backend, fullgraph, static_shapes
        )
    else:
        state.skipped["compile"] = "off (SITTER_COMPILE=auto is on for CUDA only)"
    loaded.speed = state
    log.info("speedups: %s; skipped: %s", state.describe(), state.skipped or "none")
    return state


def fast_scheduler(scheduler: Any) -> Any:
    """EulerDiscrete with trailing timesteps: what SDXL-Lightning's 4-step UNet expects."""
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler.from_config(scheduler.config, timestep_spacing="trailing")


def is_fast(steps: int, guidance: float) -> bool:
    return steps <= FAST_MAX_STEPS and guidance <= 1.0


def choose_path(loaded: LoadedPipeline, params: Any) -> Any:
    """Pick the path for one render and set its scheduler; returns the params to use.

    ``params`` is the engine's resolved parameters (a dataclass with ``steps`` and
    ``guidance``). On a worker set to the fast path every order becomes 4 steps
    without guidance; otherwise a style that asks for <= 8 steps at guidance <= 1
    gets the fast scheduler, and everything else keeps the model's own.
    """
    state, pipe = loaded.speed, loaded.pipe
    if state is None:  # a pipeline the loader did not speed up (e.g. a test's own)
        return params
    if state.fast_path:
        params = dataclasses.replace(params, steps=FAST_STEPS, guidance=0.0)
    path = "fast" if is_fast(params.steps, params.guidance) else "quality"
    scheduler = state.schedulers[path]
    if pipe.scheduler is not scheduler:
        pipe.scheduler = scheduler
    return params
