"""Stable Diffusion XL's personal-model trainer: a LoRA on the UNet's attention.

As diffusers' ``examples/dreambooth/train_dreambooth_lora_sdxl.py``: the LoRA wraps
``to_q``, ``to_k``, ``to_v`` and ``to_out.0``; latents are the VAE's (times its scaling
factor), noised by a DDPM scheduler made from the pipeline's own config, and the loss
follows that config's ``prediction_type`` (epsilon: the noise; v_prediction: the
velocity). The file is diffusers' SDXL LoRA format (``unet.``-prefixed diffusers keys,
``convert_state_dict_to_diffusers``), which ``load_lora_weights`` reads.

The identity adapter (IP-Adapter) stays in the UNet: it is fed placeholder inputs at
scale 0 while training, so the LoRA learns the person from the text path alone and
adds to the adapter's likeness at generation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from engine.training.base import Sample, Trainer

if TYPE_CHECKING:
    import torch
    from PIL import Image

TARGETS = ["to_k", "to_q", "to_v", "to_out.0"]
SIDE = 1024  # SDXL's own resolution
TINY_SIDE = 64


class SdxlTrainer(Trainer):
    family = "sdxl"
    default_steps = 1000
    learning_rate = 1e-4
    lora_prefix = "unet"

    @property
    def denoiser(self) -> Any:
        return self.pipe.unet

    def target_modules(self) -> list[str]:
        return list(TARGETS)

    def side(self) -> int:
        return TINY_SIDE if self.loaded.tiny else SIDE

    def _noise(self) -> Any:
        from diffusers import DDPMScheduler

        if not hasattr(self, "_ddpm"):
            self._ddpm = DDPMScheduler.from_config(self.pipe.scheduler.config)
        return self._ddpm

    def encode_text(self, captions: list[str]) -> list[dict[str, Any]]:
        import torch

        from engine.pipeline import long_prompt

        side = self.side()
        out = []
        for caption in captions:
            enc = long_prompt.encode(self.pipe, caption, None, cfg=False)
            out.append(
                {
                    "embeds": enc["prompt_embeds"].clone(),  # out of inference mode
                    "pooled": enc["pooled_prompt_embeds"].clone(),
                    "time_ids": torch.tensor(
                        [[side, side, 0, 0, side, side]],
                        device=self.loaded.device,
                        dtype=enc["prompt_embeds"].dtype,
                    ),
                }
            )
        return out

    def encode_images(self, images: list[Image.Image]) -> list[torch.Tensor]:
        side = self.side()
        vae = self.pipe.vae
        out = []
        for im in images:
            x = self.pipe.image_processor.preprocess(im, height=side, width=side)
            x = x.to(device=self.loaded.device, dtype=vae.dtype)
            latents = vae.encode(x).latent_dist.mode() * vae.config.scaling_factor
            out.append(latents.detach())
        return out

    def _identity_off(self) -> dict[str, Any]:
        """The identity adapter's inputs as placeholders, its scale 0 (see the docstring)."""
        import torch

        from engine.pipeline.identity_input import identity_kwargs, placeholder_crops

        if getattr(self.denoiser, "encoder_hid_proj", None) is None:
            return {}
        self.pipe.set_ip_adapter_scale(0.0)
        refs = np.zeros((1, self.loaded.id_dim), dtype=np.float32)
        refs[0, 0] = 1.0
        with torch.no_grad():
            kw = identity_kwargs(self.loaded, refs, placeholder_crops(), cfg=False, batch=1)
        return {"image_embeds": [e.clone() for e in kw["ip_adapter_image_embeds"]]}

    def loss(self, sample: Sample, generator: torch.Generator) -> torch.Tensor:
        import torch

        from engine.pipeline.identity_input import clear_identity

        ddpm = self._noise()
        x = sample.latents
        noise = torch.randn(x.shape, generator=generator).to(x.device, x.dtype)
        t = torch.randint(0, ddpm.config.num_train_timesteps, (x.shape[0],), generator=generator)
        t = t.to(x.device)
        noisy = ddpm.add_noise(x, noise, t)
        added = {"text_embeds": sample.text["pooled"], "time_ids": sample.text["time_ids"]}
        added.update(self._identity_off())
        try:
            pred = self.denoiser(
                noisy,
                t,
                encoder_hidden_states=sample.text["embeds"],
                added_cond_kwargs=added,
                return_dict=False,
            )[0]
        finally:
            clear_identity(self.loaded)
        if ddpm.config.prediction_type == "v_prediction":
            target = ddpm.get_velocity(x, noise, t)
        else:
            target = noise
        return torch.mean((pred.float() - target.float()) ** 2)

    def to_diffusers(self, peft_state: dict[str, Any]) -> dict[str, Any]:
        from diffusers.utils import convert_state_dict_to_diffusers

        return {f"unet.{k}": v for k, v in convert_state_dict_to_diffusers(peft_state).items()}
