"""SDXL's published component configurations, and the model built from them.

The JSON files beside this module are stabilityai/stable-diffusion-xl-base-1.0's
``config.json`` files (UNet, VAE, both text encoders, scheduler), written out so
the real architecture can be built with random weights where no download is
possible: on the GPU machine for the speed benchmark, and on the meta device
(no memory at all) for parameter and FLOP counts on any CPU.

The tokenizers are the tiny model's byte-level CLIP tokenizer: prompts pad to
77 tokens either way, so the text encoders do the same work as with the real
49,408-token vocabulary (their embedding tables keep the real size).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COMPONENTS = ("unet", "vae", "text_encoder", "text_encoder_2", "scheduler")
# Published parameter counts of stabilityai/stable-diffusion-xl-base-1.0.
PARAMS = {
    "unet": 2_567_463_684,
    "vae": 83_653_863,
    "text_encoder": 123_060_480,
    "text_encoder_2": 694_659_840,
}
LATENT_SIDE = 128  # 1024 px / the VAE's factor 8


def load_config(name: str) -> dict[str, Any]:
    """One component's config, without the ``_source`` note."""
    if name not in COMPONENTS:
        raise ValueError(f"unknown SDXL component {name!r}: use one of {', '.join(COMPONENTS)}")
    data = json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if k != "_source"}


def _text_encoder(name: str) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    cfg = load_config(name)
    cls = CLIPTextModelWithProjection if name == "text_encoder_2" else CLIPTextModel
    cfg.pop("architectures", None)
    cfg.pop("model_type", None)
    # The published eos id (2) selects CLIP's "argmax of the ids" pooling, which
    # holds for the tiny tokenizer too: its end token has the highest id.
    return cls(CLIPTextConfig(**cfg))


def build_sdxl(device: str = "meta", dtype: Any = None) -> Any:
    """StableDiffusionXLPipeline with SDXL's architecture and random weights on ``device``.

    ``device="meta"`` allocates nothing (shapes only); on CUDA the weights are
    initialised on the GPU, then cast to ``dtype``.
    """
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )

    from engine.pipeline import tiny

    with torch.device(device):
        unet = UNet2DConditionModel.from_config(load_config("unet"))
        vae = AutoencoderKL.from_config(load_config("vae"))
        text_encoder = _text_encoder("text_encoder")
        text_encoder_2 = _text_encoder("text_encoder_2")
    scheduler = EulerDiscreteScheduler.from_config(load_config("scheduler"))
    pipe = StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tiny._tokenizer(),
        tokenizer_2=tiny._tokenizer(),
        unet=unet,
        scheduler=scheduler,
        image_encoder=None,
        feature_extractor=None,
        force_zeros_for_empty_prompt=True,
    )
    if dtype is not None:
        pipe.to(dtype=dtype)
    return pipe


def parameter_counts(pipe: Any) -> dict[str, int]:
    return {
        name: sum(p.numel() for p in getattr(pipe, name).parameters())
        for name in ("unet", "vae", "text_encoder", "text_encoder_2")
    }
