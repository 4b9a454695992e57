"""FLUX.2 [klein]: the person's photos as ``image=[...]`` references, no adapter.

Choosing and preparing the references, the text encoder's limits and the batched
render are in engine/pipeline/klein.py; the speed switches in klein_speed.py; the
tiny model in tiny_klein.py. Image to image (vary, relight) and the face detail pass
are a reference edit with ``Flux2KleinInpaintPipeline`` (``from_pipe``), the mask
over the whole image: the start image is the first input image (noised to the
strength), the order's prepared photos the others (at most 4 inputs in all). One call
per image: the pipeline reads a batch of references as one per image when their
count equals the batch.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from engine.families.base import (
    Draw,
    ReferenceFamily,
    StepCallback,
    pipeline_kwargs,
)
from engine.pipeline.loaded import Defaults, LoadedPipeline, Optimisations

if TYPE_CHECKING:
    from engine.training.base import Trainer
    from sitter.config import Settings

log = logging.getLogger(__name__)

MAX_INPUTS = 4  # FLUX.2 [klein] is trained for up to 4 input images


class Klein(ReferenceFamily):
    name = "klein"
    title = "FLUX.2 [klein]"
    class_names = ("Flux2KleinPipeline",)
    hub_prefixes = ("black-forest-labs/FLUX.2-klein",)
    tiny_models = ("tiny-klein",)
    img2img_class = "Flux2KleinInpaintPipeline"
    max_references = MAX_INPUTS
    limits_prompt = True  # Qwen3 reads 512 tokens (engine/pipeline/klein.py)

    def defaults(self, tiny: bool) -> Defaults:
        if tiny:
            return Defaults(steps=4, guidance=1.0, width=64, height=64, identity_scale=1.0)
        # FLUX.2 [klein] 4B is step-distilled: 4 steps, no guidance (its model card).
        return Defaults(steps=4, guidance=1.0, width=1024, height=1024, identity_scale=1.0)

    def grid(self) -> tuple[int, int]:
        return (1024, 16)  # multiples of vae_scale_factor * 2 around 1 MP

    def steps_and_guidance(
        self, loaded: LoadedPipeline, steps: int, guidance: float | None
    ) -> tuple[int, float]:
        from engine.pipeline.klein import distilled_params

        return distilled_params(loaded, steps, guidance)

    def build_tiny(self, model: str, folder: Path) -> None:
        from engine.pipeline import tiny_klein

        tiny_klein.save(folder)

    def load(
        self, settings: Settings, device: str, opts: Optimisations, ref: str, local: bool
    ) -> LoadedPipeline:
        from diffusers import Flux2KleinPipeline

        log.info("loading %s (klein) on %s as %s", settings.model, device, opts.describe())
        pipe = Flux2KleinPipeline.from_pretrained(ref, **pipeline_kwargs(opts, settings, local))
        pipe.to(device)
        pipe.set_progress_bar_config(disable=True)
        is_tiny = settings.model in self.tiny_models
        return LoadedPipeline(
            pipe=pipe,
            family=self.name,
            model=settings.model,
            tiny=is_tiny,
            device=device,
            opts=Optimisations(dtype=opts.dtype, sdpa=False, channels_last=False),
            defaults=self.defaults(is_tiny),
            adapter=self.reference_spec(settings, ref, f"{self.title} image=[...], up to 4"),
        )

    def apply_speedups(self, loaded: LoadedPipeline, settings: Settings) -> None:
        from engine.pipeline import klein_speed, speed

        klein_speed.apply_speedups(
            loaded,
            speed.compile_wanted(settings.compile, loaded.device),
            compile_mode=settings.compile_mode,
        )

    def trainer(self, loaded: LoadedPipeline) -> Trainer:
        from engine.families.train_klein import KleinTrainer

        return KleinTrainer(loaded)

    # --- an order -----------------------------------------------------------------------------
    def check_order_prompt(self, loaded: LoadedPipeline, prompt: str) -> None:
        from engine.pipeline import klein

        klein.check_prompt(loaded, prompt)

    def prompt_limit(
        self, settings: Settings, folder: Path | None, ref: str
    ) -> tuple[Callable[[str], int], int] | None:
        from engine.pipeline.klein import prompt_tokens

        found = cached_tokenizer(settings, folder, ref)
        if found is None:
            return None
        tok, limit = found
        return (lambda text: prompt_tokens(tok, text)), limit

    def render(
        self, loaded: LoadedPipeline, draw: Draw, on_step: StepCallback
    ) -> list[Image.Image]:
        from engine.pipeline import klein

        return klein.render(
            loaded,
            prompt=draw.prompt,
            params=draw.params,
            seeds=draw.seeds,
            images=draw.ref_images,
            on_step=on_step,
            latents=draw.ref_latents,
        )

    def _edit(
        self,
        loaded: LoadedPipeline,
        draw: Draw,
        images: Sequence[Image.Image],
        strength: float,
        steps: int,
        on_step: StepCallback,
    ) -> list[Image.Image]:
        """Each image edited with the order's references beside it, one call per image."""
        import torch

        from engine.pipeline.detail_render import detail_pipe
        from engine.pipeline.klein import text_limits

        pipe = detail_pipe(loaded)
        limits = text_limits(loaded.pipe)
        # The edited image is the first input; the photos (two people: as many of each,
        # the prompt numbering them from 1, as image_reference is) the others.
        chosen, prompt = self.edit_references(draw, MAX_INPUTS - 1, first_number=1)
        references = chosen or None
        out = []
        with torch.inference_mode():
            for image, seed in zip(images, draw.seeds, strict=True):
                whole = Image.new("L", image.size, 255)  # repaint everything: image-to-image
                res = pipe(
                    prompt=prompt,
                    image=image,
                    image_reference=references,
                    mask_image=whole,
                    strength=strength,
                    num_inference_steps=steps,
                    guidance_scale=draw.params.guidance,
                    width=image.width,
                    height=image.height,
                    generator=torch.Generator("cpu").manual_seed(int(seed)),
                    max_sequence_length=limits.max_sequence_length,
                    text_encoder_out_layers=limits.out_layers,
                    callback_on_step_end=on_step,
                    output_type="pil",
                )
                out.append(res.images[0])
        return out

    def render_from(
        self,
        loaded: LoadedPipeline,
        draw: Draw,
        start: Image.Image,
        strength: float,
        on_step: StepCallback,
    ) -> list[Image.Image]:
        from engine.pipeline.img2img import refine_steps

        steps = refine_steps(draw.params.steps, strength)
        return self._edit(loaded, draw, [start] * len(draw.seeds), strength, steps, on_step)

    def render_crops(
        self,
        loaded: LoadedPipeline,
        draw: Draw,
        images: Sequence[Image.Image],
        strength: float,
        steps: int,
        on_step: StepCallback,
    ) -> list[Image.Image]:
        return self._edit(loaded, draw, images, strength, steps, on_step)


_LOCK = threading.Lock()
_TOKENIZERS: dict[tuple[str, str], Any] = {}


def cached_tokenizer(settings: Settings, folder: Path | None, ref: str) -> tuple[Any, int] | None:
    """(tokenizer, max_sequence_length) of the model's Qwen3 text encoder, cached per
    model (the fast queue answers without the pipeline); None when its files are not
    on this machine."""
    from transformers import AutoTokenizer

    from engine.pipeline.klein import DEFAULT_MAX_SEQUENCE_LENGTH

    key = (settings.model, str(settings.models_dir))
    with _LOCK:
        if key in _TOKENIZERS:
            return _TOKENIZERS[key]
        try:
            if folder is not None:
                tok = AutoTokenizer.from_pretrained(folder / "tokenizer")
                config = folder / "text_encoder" / "config.json"
            else:
                cache = settings.models_dir
                tok = AutoTokenizer.from_pretrained(
                    ref, subfolder="tokenizer", cache_dir=cache, local_files_only=True
                )
                from huggingface_hub import hf_hub_download

                config = Path(
                    hf_hub_download(
                        ref, "text_encoder/config.json", cache_dir=cache, local_files_only=True
                    )
                )
            positions = json.loads(config.read_text(encoding="utf-8")).get(
                "max_position_embeddings", DEFAULT_MAX_SEQUENCE_LENGTH
            )
        except Exception:
            return None  # not on this machine
        _TOKENIZERS[key] = (tok, min(DEFAULT_MAX_SEQUENCE_LENGTH, int(positions)))
        return _TOKENIZERS[key]


KLEIN = Klein()
