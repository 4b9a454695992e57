"""The speed switches of the generation path, applied once per loaded pipeline.

``apply_speedups(pipe, device, dtype, compile)`` is called by the loader after
the identity adapter is loaded and the pipeline is on its device. What each
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
  production shapes (:func:`warm_up`) so no order pays for compilation.
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
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

COMPILE_MODES = ("max-autotune-no-cudagraphs", "max-autotune", "reduce-overhead", "default")
DEFAULT_COMPILE_MODE = "max-autotune-no-cudagraphs"
FAST_STEPS = 4
FAST_MAX_STEPS = 8  # a style asking for this few steps without guidance is a fast style
_STATE_ATTR = "_sitter_speed"


@dataclass
class Speedups:
    """What :func:`apply_speedups` did to one pipeline (kept on the pipeline)."""

    device: str
    dtype: Any
    applied: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    fast_path: bool = False  # every order renders the fast path (distilled model)
    compiled: bool = False
    schedulers: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return "+".join(self.applied) or "none"


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


def apply_speedups(
    pipe: Any,
    device: str,
    dtype: Any,
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
    """Apply every speed switch to ``pipe`` (once, after the adapter is loaded)."""
    import torch

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
    if fuse:
        n = fuse_projections(pipe.unet) + fuse_projections(pipe.vae)
        state.applied.append(f"fused-qkv({n})")
        if any(_is_ip_adapter(p) for p in pipe.unet.attn_processors.values()):
            state.skipped["fused-qkv on IP-Adapter cross-attention"] = (
                "diffusers has no fused IP-Adapter processor; fuse_qkv_projections() "
                "would drop the identity adapter"
            )
    else:
        state.skipped["fused-qkv"] = "switched off"

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
        from diffusers.utils.torch_utils import is_compiled_module

        before = speedups_of(pipe)
        if is_compiled_module(pipe.unet) or (before is not None and before.compiled):
            state.compiled = True
            state.skipped["compile"] = "already compiled"
        else:
            if static_shapes:
                # One static graph per shape (faster kernels, a compile per new batch
                # size or resolution) instead of dynamo's switch to a dynamic batch
                # dimension at the second shape it sees.
                torch._dynamo.config.automatic_dynamic_shapes = False
                torch._dynamo.config.cache_size_limit = max(
                    64, torch._dynamo.config.cache_size_limit
                )
            _compile(pipe.unet, compile_mode, compile_backend, fullgraph)
            _compile(pipe.vae.decoder, compile_mode, compile_backend, fullgraph)
            state.compiled = True
            state.applied.append(
                f"compile({compile_mode if compile_backend == 'inductor' else compile_backend})"
            )
    else:
        state.skipped["compile"] = "off (SITTER_COMPILE=auto is on for CUDA only)"
    setattr(pipe, _STATE_ATTR, state)
    log.info("speedups: %s; skipped: %s", state.describe(), state.skipped or "none")
    return state


def speedups_of(pipe: Any) -> Speedups | None:
    return getattr(pipe, _STATE_ATTR, None)


def fast_scheduler(scheduler: Any) -> Any:
    """EulerDiscrete with trailing timesteps: what SDXL-Lightning's 4-step UNet expects."""
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler.from_config(scheduler.config, timestep_spacing="trailing")


def is_fast(steps: int, guidance: float) -> bool:
    return steps <= FAST_MAX_STEPS and guidance <= 1.0


def choose_path(pipe: Any, params: Any) -> Any:
    """Pick the path for one render and set its scheduler; returns the params to use.

    ``params`` is the engine's resolved parameters (a dataclass with ``steps`` and
    ``guidance``). On a worker set to the fast path every order becomes 4 steps
    without guidance; otherwise a style that asks for <= 8 steps at guidance <= 1
    gets the fast scheduler, and everything else keeps the model's own.
    """
    state = speedups_of(pipe)
    if state is None:  # a pipeline the loader did not speed up (e.g. a test's own)
        return params
    if state.fast_path:
        params = dataclasses.replace(params, steps=FAST_STEPS, guidance=0.0)
    path = "fast" if is_fast(params.steps, params.guidance) else "quality"
    scheduler = state.schedulers[path]
    if pipe.scheduler is not scheduler:
        pipe.scheduler = scheduler
    return params


def warm_up(loaded: Any, sizes: list[tuple[int, int]] | None = None, batches=(4, 1)) -> bool:
    """Compile ahead of the first order; False (nothing done) when nothing is compiled.

    torch.compile specialises on shapes: an order whose shape was never seen pays
    the compilation (minutes for SDXL with max-autotune). This renders 2 steps at
    each size (default: the model's default size) for a full order (4 seeds) and
    for a one-image retry (the second batch size makes dynamo generalise the batch
    dimension), on the path the worker serves (quality with CFG, or fast).
    """
    import numpy as np

    from engine.pipeline.generate import Resolved, render
    from engine.pipeline.identity_input import placeholder_crops

    state = speedups_of(loaded.pipe)
    if state is None or not state.compiled:
        return False
    d = loaded.defaults
    guidance = 0.0 if state.fast_path else d.guidance
    ref_images = []
    if loaded.family == "klein":  # an order's shape: the output's tokens + 4 references'
        from PIL import Image

        from engine.pipeline import klein

        side = klein.reference_side(loaded)
        ref_images = [Image.new("RGB", (side, side), (128, 128, 128))] * klein.MAX_REFERENCES
    for width, height in sizes or [(d.width, d.height)]:
        for batch in batches:
            render(
                loaded,
                prompt="a portrait",
                negative_prompt="",
                params=Resolved(2, guidance, width, height, d.identity_scale),
                seeds=list(range(batch)),
                refs=np.ones((1, loaded.id_dim), dtype=np.float32),
                crops=placeholder_crops(),
                ref_images=ref_images,
            )
    return True


@dataclass(frozen=True)
class Flops:
    """FLOPs (torch.utils.flop_counter) of one UNet forward and one VAE decode, batch 1."""

    unet: int
    vae_decode: int
    text: int  # both text encoders, one prompt

    def job(self, images: int, steps: int, cfg: bool) -> int:
        """One order: ``images`` x ``steps`` UNet passes (twice under CFG) + decodes."""
        return images * steps * (2 if cfg else 1) * self.unet + images * self.vae_decode


def count_flops(pipe: Any, latent_side: int, id_dim: int | None) -> Flops:
    """Count on whatever device ``pipe`` lives on; the meta device needs no weights.

    ``id_dim``: feed identity embeddings of that size to the IP-Adapter layers
    (None when the pipeline has no adapter).
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    unet, vae = pipe.unet, pipe.vae
    device = unet.device
    dtype = unet.dtype
    cfg = unet.config

    def randn(*shape: int) -> Any:
        return torch.randn(*shape, device=device, dtype=dtype)

    added: dict[str, Any] = {}
    if cfg.addition_embed_type == "text_time":
        text_dim = cfg.projection_class_embeddings_input_dim - 6 * cfg.addition_time_embed_dim
        added = {"text_embeds": randn(1, text_dim), "time_ids": randn(1, 6)}
    if id_dim is not None:
        added["image_embeds"] = [randn(1, 1, id_dim)]
    sample = randn(1, cfg.in_channels, latent_side, latent_side)
    timestep = torch.tensor([999.0], device=device)
    enc = randn(1, 77, cfg.cross_attention_dim)
    latents = randn(1, vae.config.latent_channels, latent_side, latent_side)
    ids = torch.zeros(1, 77, dtype=torch.long, device=device)

    def counted(fn: Any) -> int:
        counter = FlopCounterMode(display=False)
        with torch.inference_mode(), counter:
            fn()
        return int(counter.get_total_flops())

    text = 0
    for name in ("text_encoder", "text_encoder_2"):
        encoder = getattr(pipe, name, None)
        if encoder is not None:
            text += counted(lambda e=encoder: e(ids))
    return Flops(
        unet=counted(
            lambda: unet(sample, timestep, encoder_hidden_states=enc, added_cond_kwargs=added)
        ),
        vae_decode=counted(lambda: vae.decode(latents)),
        text=text,
    )
