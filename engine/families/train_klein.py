"""FLUX.2 [klein]'s personal-model trainer: a LoRA on the Flux2 transformer.

As diffusers' ``examples/dreambooth/train_dreambooth_lora_flux2_klein.py``: the LoRA
wraps the double blocks' attention projections and the single blocks' fused
``to_qkv_mlp_proj`` and ``attn.to_out``; latents are the pipeline's own
(``_encode_vae_image``: patchified and batch-norm normalised), noised along the
rectified flow ``x_t = (1 - s) x + s n`` with the scheduler's shift, and the
transformer learns the velocity ``n - x``. The file is diffusers' Flux2 LoRA format
(``transformer.``-prefixed peft keys), which ``Flux2KleinPipeline.load_lora_weights``
reads.

Text features come from the text encoder's hidden layers (9, 18, 27), as every klein
pipeline encodes prompts (``engine.pipeline.klein.text_limits``), not the training
script's default ``--text_encoder_out_layers 10 20 30``: diffusers issue 13445 (still
open) — a LoRA trained on other layers than the pipeline reads learns from features
it never sees at generation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.training.base import Sample, Trainer

if TYPE_CHECKING:
    import torch
    from PIL import Image

TARGETS = ["to_k", "to_q", "to_v", "to_out.0", "to_qkv_mlp_proj"]
SIDE = 512  # the real model's training pictures
TINY_SIDE = 64


class KleinTrainer(Trainer):
    family = "klein"
    default_steps = 1000
    learning_rate = 1e-4
    lora_prefix = "transformer"

    @property
    def denoiser(self) -> Any:
        return self.pipe.transformer

    def target_modules(self) -> list[str]:
        import torch

        single = [
            name
            for name, module in self.denoiser.named_modules()
            if name.startswith("single_transformer_blocks.")
            and name.endswith("attn.to_out")
            # a layer wrapped by an earlier adapter (a training's or an order's LoRA,
            # deleted since) is still that Linear: every run trains the same layers
            and isinstance(getattr(module, "base_layer", module), torch.nn.Linear)
        ]
        return TARGETS + single

    def side(self) -> int:
        return TINY_SIDE if self.loaded.tiny else SIDE

    def encode_text(self, captions: list[str]) -> list[dict[str, Any]]:
        from engine.pipeline.klein import text_limits

        limits = text_limits(self.pipe)  # (9, 18, 27) on the real model: diffusers #13445
        out = []
        for caption in captions:
            embeds, ids = self.pipe.encode_prompt(
                prompt=caption,
                device=self.loaded.device,
                max_sequence_length=limits.max_sequence_length,
                text_encoder_out_layers=limits.out_layers,
            )
            out.append({"embeds": embeds.detach(), "ids": ids.detach()})
        return out

    def encode_images(self, images: list[Image.Image]) -> list[torch.Tensor]:
        side = self.side()
        vae = self.pipe.vae
        out = []
        for im in images:
            x = self.pipe.image_processor.preprocess(im, height=side, width=side)
            x = x.to(device=self.loaded.device, dtype=vae.dtype)
            out.append(self.pipe._encode_vae_image(x, generator=None).detach())
        return out

    def loss(self, sample: Sample, generator: torch.Generator) -> torch.Tensor:
        import torch

        pipe, den = self.pipe, self.denoiser
        x = sample.latents  # (1, C, H, W), normalised
        noise = torch.randn(x.shape, generator=generator).to(x.device, x.dtype)
        shift = float(pipe.scheduler.config.get("shift", 1.0))
        u = torch.rand((x.shape[0],), generator=generator)
        sigma = (shift * u / (1 + (shift - 1) * u)).to(x.device, x.dtype).view(-1, 1, 1, 1)
        noisy = (1.0 - sigma) * x + sigma * noise
        ids = pipe._prepare_latent_ids(noisy).to(x.device)
        packed = pipe._pack_latents(noisy)
        guidance = None
        if den.config.guidance_embeds:
            guidance = torch.full((x.shape[0],), 1.0, device=x.device, dtype=x.dtype)
        pred = den(
            hidden_states=packed,
            timestep=sigma.flatten(),  # the pipeline's timestep / 1000
            guidance=guidance,
            encoder_hidden_states=sample.text["embeds"],
            txt_ids=sample.text["ids"],
            img_ids=ids,
            return_dict=False,
        )[0]
        pred = pipe._unpack_latents_with_ids(pred[:, : packed.size(1)], ids)
        return torch.mean((pred.float() - (noise - x).float()) ** 2)
