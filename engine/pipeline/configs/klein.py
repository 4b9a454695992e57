"""FLUX.2 [klein] 4B's component configurations, and the model built from them.

The ``klein_*.json`` files beside this module hold black-forest-labs/FLUX.2-klein-4B's
architecture (transformer, VAE, Qwen3-4B text encoder, scheduler; each file's
``_source`` says where its values come from and which are inferred), so the real
architecture can be built with random weights where no download is possible: on
the GPU machine for the speed benchmark, and on the meta device for parameter and
FLOP counts on any CPU.

The tokenizer is the tiny model's byte-level Qwen2 tokenizer with Qwen3's chat
template: the pipeline pads every prompt to ``max_sequence_length`` (512), so the
text encoder does the same work as with the real 151k-token vocabulary (its
embedding table keeps the real size).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COMPONENTS = ("transformer", "vae", "text_encoder", "scheduler")
LATENT_SIDE = 128  # 1024 px / the VAE's factor 8 (then 2x2 patches: 64x64 tokens)


def load_config(name: str) -> dict[str, Any]:
    """One component's config, without the ``_source`` note."""
    if name not in COMPONENTS:
        raise ValueError(f"unknown klein component {name!r}: use one of {', '.join(COMPONENTS)}")
    data = json.loads((HERE / f"klein_{name}.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if k != "_source"}


def _text_encoder() -> Any:
    from transformers import Qwen3Config, Qwen3ForCausalLM

    cfg = load_config("text_encoder")
    cfg.pop("architectures", None)
    cfg.pop("model_type", None)
    return Qwen3ForCausalLM(Qwen3Config(**cfg))


def build_klein(device: str = "meta", dtype: Any = None) -> Any:
    """Flux2KleinPipeline with klein 4B's architecture and random weights on ``device``.

    ``device="meta"`` allocates nothing (shapes only); on CUDA the weights are
    initialised on the GPU, then cast to ``dtype``.
    """
    import torch
    from diffusers import (
        AutoencoderKLFlux2,
        FlowMatchEulerDiscreteScheduler,
        Flux2KleinPipeline,
        Flux2Transformer2DModel,
    )

    from engine.pipeline.tiny_klein import _tokenizer

    with torch.device(device):
        transformer = Flux2Transformer2DModel.from_config(load_config("transformer"))
        vae = AutoencoderKLFlux2.from_config(load_config("vae"))
        text_encoder = _text_encoder()
    scheduler = FlowMatchEulerDiscreteScheduler.from_config(load_config("scheduler"))
    pipe = Flux2KleinPipeline(
        scheduler=scheduler,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=_tokenizer(),
        transformer=transformer,
        is_distilled=True,
    )
    if dtype is not None:
        pipe.to(dtype=dtype)
    return pipe


def parameter_counts(pipe: Any) -> dict[str, int]:
    """Parameters per component (a tied embedding counts once, as in the checkpoint)."""
    return {
        name: sum(p.numel() for p in getattr(pipe, name).parameters())
        for name in ("transformer", "vae", "text_encoder")
    }
