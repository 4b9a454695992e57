"""FLUX.2 [klein]'s speed: its work counted on the meta device, and its switches.

The work of one order (one batched pipeline call, engine.pipeline.klein.render):
the text encoder once (the prompt is padded to ``max_sequence_length``), each
reference VAE-encoded once, ``images x steps`` transformer forwards over the
output's tokens plus every reference's tokens (the pipeline concatenates the
references to each image's sequence at every step), and one VAE decode per image.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KleinFlops:
    """FLOPs (torch.utils.flop_counter) of each part, batch 1."""

    transformer: int  # one forward: output tokens + all reference tokens + text
    transformer_plain: int  # one forward without references
    vae_decode: int
    vae_encode: int  # one reference
    text: int  # one prompt, padded
    references: int

    def job(self, images: int, steps: int, cfg: bool = False) -> int:
        per_step = self.transformer if self.references else self.transformer_plain
        return (
            images * steps * (2 if cfg else 1) * per_step
            + images * self.vae_decode
            + self.references * self.vae_encode
            + (2 if cfg else 1) * self.text
        )


def _ids(t: int, h: int, w: int, device: Any) -> Any:
    import torch

    tt, hh, ww = torch.meshgrid(
        torch.tensor([t], device=device),
        torch.arange(h, device=device),
        torch.arange(w, device=device),
        indexing="ij",
    )
    ll = torch.zeros_like(tt)
    return torch.stack([tt, hh, ww, ll], dim=-1).reshape(1, -1, 4)


def _counted(fn: Any) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        fn()
    return int(counter.get_total_flops())


def transformer_flops(
    pipe: Any, side: int, references: int, ref_side: int, text_tokens: int = 512
) -> int:
    """One transformer forward, batch 1: the output's tokens, then each reference's."""
    import torch

    tr = pipe.transformer
    device, dtype = tr.device, tr.dtype
    patch = int(pipe.vae_scale_factor) * 2
    out_grid, ref_grid = side // patch, ref_side // patch
    ids = [_ids(0, out_grid, out_grid, device)]
    ids += [_ids(10 + 10 * i, ref_grid, ref_grid, device) for i in range(references)]
    img_ids = torch.cat(ids, dim=1)
    txt_ids = torch.zeros(1, text_tokens, 4, dtype=torch.long, device=device)
    txt_ids[..., 3] = torch.arange(text_tokens, device=device)
    hidden = torch.randn(
        1, img_ids.shape[1], int(tr.config.in_channels), device=device, dtype=dtype
    )
    text = torch.randn(
        1, text_tokens, int(tr.config.joint_attention_dim), device=device, dtype=dtype
    )
    return _counted(
        lambda: tr(
            hidden_states=hidden,
            timestep=torch.tensor([1.0], device=device, dtype=dtype),
            guidance=None,
            encoder_hidden_states=text,
            txt_ids=txt_ids,
            img_ids=img_ids,
            return_dict=False,
        )
    )


def count_flops(
    pipe: Any, side: int, references: int, ref_side: int, text_tokens: int = 512
) -> KleinFlops:
    """Count on whatever device ``pipe`` lives on (the meta device needs no weights).

    ``side``: the output's side in px; ``ref_side``: each reference's side in px.
    """
    import torch

    vae, te = pipe.vae, pipe.text_encoder
    device, dtype = pipe.transformer.device, pipe.transformer.dtype
    latent = side // int(pipe.vae_scale_factor)
    lat_ch = int(vae.config.latent_channels)
    ids = torch.zeros(1, text_tokens, dtype=torch.long, device=device)
    plain = transformer_flops(pipe, side, 0, ref_side, text_tokens)
    return KleinFlops(
        transformer=transformer_flops(pipe, side, references, ref_side, text_tokens)
        if references
        else plain,
        transformer_plain=plain,
        vae_decode=_counted(
            lambda: vae.decode(torch.randn(1, lat_ch, latent, latent, device=device, dtype=dtype))
        ),
        vae_encode=_counted(
            lambda: vae.encode(torch.randn(1, 3, ref_side, ref_side, device=device, dtype=dtype))
        ),
        text=_counted(lambda: te(ids, output_hidden_states=True)),
        references=references,
    )


def apply_speedups(
    pipe: Any,
    device: str,
    dtype: Any,
    compile: bool,
    *,
    compile_mode: str = "max-autotune-no-cudagraphs",
    compile_backend: str = "inductor",
    fullgraph: bool = True,
) -> Any:
    """klein's switches: bf16 (the loader's dtype), SDPA (diffusers' own attention
    dispatch for Flux2 is ``scaled_dot_product_attention`` already), TF32 for fp32
    leftovers on CUDA, and torch.compile of the transformer and the VAE decoder.
    Returns the same :class:`engine.pipeline.speed.Speedups` record as SDXL's."""
    import torch

    from engine.pipeline import speed

    state = speed.Speedups(device=device, dtype=dtype, fast_path=False)
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
    setattr(pipe, speed._STATE_ATTR, state)
    log.info("klein speedups: %s; skipped: %s", state.describe(), state.skipped or "none")
    return state
