"""The work of one order in FLOPs (torch.utils.flop_counter), for the speed benchmarks.

Benchmark code, not the engine's: benchmarks/bench_speed.py and bench_klein.py print
these figures as the floor a render is measured against, and tests/test_speed_bench.py
and test_klein_speed.py pin them. Counted on whatever device the pipeline lives on;
the meta device needs no weights.

- SDXL / SD 1.5 (:func:`count_flops`): one UNet forward, one VAE decode, the text
  encoders, batch 1; an order is ``images x steps`` UNet passes (twice under CFG).
- FLUX.2 [klein] (:func:`count_klein_flops`): the text encoder once (the prompt is
  padded to ``max_sequence_length``), each reference VAE-encoded once, ``images x
  steps`` transformer forwards over the output's tokens plus every reference's
  tokens (the pipeline concatenates the references to each image's sequence at
  every step), and one VAE decode per image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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


def count_klein_flops(
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
