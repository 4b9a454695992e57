"""Qwen-Image-Edit (2509): the person's photos as up to three input pictures.

``QwenImageEditPlusPipeline`` (diffusers 0.42.1) reads its input images twice: through
the Qwen2.5-VL text encoder ("Picture 1: <image> ...", at about 384x384) for what they
show, and through its VAE (at about 1 MP) for how they look. No adapter: the order's
reference wording names "the person in the reference images". Apache-2.0 (the
model card of Qwen/Qwen-Image-Edit-2509), so commercial-safe.

- Generation: one batched call, the order's prepared photos as the pictures (3 at most).
- Image to image (vary, relight) and the face detail pass: the start image is Picture 1
  and the start of the denoising (its latents noised to the strength, as diffusers'
  flow-matching img2img pipelines do), two of the person's photos beside it.
- Each input picture's VAE latents are encoded once per order and reused by its
  re-renders (the pipeline encodes with ``sample_mode="argmax"``: reuse is exact). The
  cache lives in the order's inputs (``Draw.ref_latents``), never with the pipeline:
  nothing of a person's photos outlives their order in the worker.
- The processor is built from its parts (the PIL image processor and the tokenizer), so
  the model loads without torchvision (the video processor needs it; it is never used).
- The tiny offline model (``tiny-qwen-edit``, qwen_edit_tiny.py) is built from the real classes with
  the sizes of diffusers' own fast test for this pipeline, a byte-level tokenizer made
  in code with Qwen2.5-VL's vision markers (the test downloads one; we cannot), and a
  five-level VAE so a 1 MP input picture is 64x64 latents.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from engine.families.base import Draw, ReferenceFamily, StepCallback, pipeline_kwargs
from engine.pipeline.loaded import Defaults, LoadedPipeline, Optimisations, Speedups

if TYPE_CHECKING:
    from sitter.config import Settings

log = logging.getLogger(__name__)

MAX_PICTURES = 3  # what Qwen-Image-Edit-2509 is trained for


class Pictures:
    """The VAE latents of one order's input pictures, by picture (PIL identity): its
    re-renders, vary/relight and detail calls encode a reference photo only once."""

    def __init__(self) -> None:
        self.latents: dict[int, Any] = {}
        self.keep: list[Image.Image] = []  # ids stay unique while the images live
        self.encoded = 0  # VAE encoder calls made for this order

    def encoder(self, images: Sequence[Image.Image], encode: Callable[..., Any]) -> Any:
        """A stand-in for the pipeline's ``_encode_vae_image`` during one call (the
        pipeline encodes its pictures in order, one call each)."""
        position = iter(images)

        def cached(image: Any, generator: Any) -> Any:
            picture = next(position)
            if id(picture) not in self.latents:
                self.latents[id(picture)] = encode(image=image, generator=generator)
                self.keep.append(picture)
                self.encoded += 1
            return self.latents[id(picture)]

        return cached


class QwenImageEdit(ReferenceFamily):
    name = "qwen-edit"
    title = "Qwen-Image-Edit-2509"
    class_names = ("QwenImageEditPlusPipeline",)
    hub_prefixes = ("Qwen/Qwen-Image-Edit-2509",)
    tiny_models = ("tiny-qwen-edit",)
    img2img_class = "QwenImageEditPlusPipeline"  # the same pipeline, started from an image
    max_references = MAX_PICTURES
    image_noun = ("Picture", "Pictures")  # its text encoder's own "Picture 1: <image>"
    min_references = 1  # the pipeline sizes its output from the last picture: never none

    def defaults(self, tiny: bool) -> Defaults:
        if tiny:  # no true CFG: one transformer pass a step
            return Defaults(steps=4, guidance=1.0, width=64, height=64, identity_scale=1.0)
        # The model card's example: 40 steps, true_cfg_scale 4.0.
        return Defaults(steps=40, guidance=4.0, width=1024, height=1024, identity_scale=1.0)

    def grid(self) -> tuple[int, int]:
        return (1024, 32)  # the pipeline's own sizing: about 1 MP, multiples of 32

    def steps_and_guidance(
        self, loaded: LoadedPipeline, steps: int, guidance: float | None
    ) -> tuple[int, float]:
        """Styles are written for SDXL's CFG (5-7); this model takes its own true CFG."""
        return steps, loaded.defaults.guidance

    def latents_cache(self) -> Pictures:
        return Pictures()

    def reference_side(self, loaded: LoadedPipeline) -> int:
        """The pipeline resizes every picture itself (384 px for the text encoder, 1 MP
        for the VAE): prepared crops of 512 px lose nothing; 64 on the tiny model."""
        return min(512, loaded.defaults.width) if loaded.tiny else 512

    # --- loading --------------------------------------------------------------------------
    def build_tiny(self, model: str, folder: Path) -> None:
        from engine.families.qwen_edit_tiny import build_tiny_qwen_edit

        build_tiny_qwen_edit().save_pretrained(folder, safe_serialization=True)
        index = folder / "model_index.json"
        layout = json.loads(index.read_text(encoding="utf-8"))
        layout["processor"] = ["transformers", "Qwen2VLProcessor"]  # as the real repo says
        index.write_text(json.dumps(layout, indent=2), encoding="utf-8")

    def load(
        self, settings: Settings, device: str, opts: Optimisations, ref: str, local: bool
    ) -> LoadedPipeline:
        from diffusers import QwenImageEditPlusPipeline

        kwargs = pipeline_kwargs(opts, settings, local)
        processor = load_processor(ref, settings, local)
        log.info("loading %s (%s) on %s as %s", settings.model, self.name, device, opts.describe())
        pipe = QwenImageEditPlusPipeline.from_pretrained(ref, processor=processor, **kwargs)
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
            adapter=self.reference_spec(settings, ref, f"{self.title}, up to {MAX_PICTURES}"),
        )

    def apply_speedups(self, loaded: LoadedPipeline, settings: Settings) -> None:
        """The loader's dtype and diffusers' SDPA dispatch; torch.compile of the
        transformer where compiling is on (its shapes vary with the pictures' sizes)."""
        from engine.pipeline.speed import compile_wanted

        state = Speedups(device=loaded.device, dtype=loaded.opts.dtype)
        state.applied += [str(loaded.opts.dtype).removeprefix("torch."), "sdpa(diffusers)"]
        state.schedulers = {"quality": loaded.pipe.scheduler, "fast": loaded.pipe.scheduler}
        if compile_wanted(settings.compile, loaded.device):
            loaded.pipe.transformer.compile(mode=settings.compile_mode)
            state.compiled = True
            state.applied.append(f"compile({settings.compile_mode})")
        else:
            state.skipped["compile"] = "off (SITTER_COMPILE=auto is on for CUDA only)"
        loaded.speed = state

    # --- rendering -------------------------------------------------------------------------
    def render(
        self, loaded: LoadedPipeline, draw: Draw, on_step: StepCallback
    ) -> list[Image.Image]:
        pictures = list(draw.ref_images)[:MAX_PICTURES]
        if not pictures:
            raise ValueError(f"{self.title} needs at least one of the person's photos")
        return self._call(loaded, draw, pictures, draw.seeds, on_step)

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
        draw = _with_cache(draw)
        return [
            self._from_image(loaded, draw, start, seed, strength, steps, on_step)
            for seed in draw.seeds
        ]

    def render_crops(
        self,
        loaded: LoadedPipeline,
        draw: Draw,
        images: Sequence[Image.Image],
        strength: float,
        steps: int,
        on_step: StepCallback,
    ) -> list[Image.Image]:
        draw = _with_cache(draw)
        return [
            self._from_image(loaded, draw, image, seed, strength, steps, on_step)
            for image, seed in zip(images, draw.seeds, strict=True)
        ]

    def _from_image(
        self,
        loaded: LoadedPipeline,
        draw: Draw,
        start: Image.Image,
        seed: int,
        strength: float,
        steps: int,
        on_step: StepCallback,
    ) -> Image.Image:
        """``start`` re-rendered at ``strength``: Picture 1 and the noised start.

        The model renders on a grid of ``vae_scale_factor * 2`` (packed 2x2 latents): a
        size off that grid is rendered at the nearest size on it and given back at the
        size asked for, not silently smaller."""
        multiple = loaded.pipe.vae_scale_factor * 2
        width, height = (max(multiple, round(side / multiple) * multiple) for side in start.size)
        fitted = start if start.size == (width, height) else start.resize((width, height))
        # Picture 1 is the edited image: the photos (two people: one each) are 2 and 3.
        photos, prompt = self.edit_references(draw, MAX_PICTURES - 1, first_number=2)
        pictures = [fitted, *photos]
        draw = dataclasses.replace(draw, prompt=prompt)
        size = {"width": width, "height": height}
        latents, sigmas = start_latents(loaded.pipe, fitted, strength, steps, seed, **size)
        out = self._call(loaded, draw, pictures, [seed], on_step, latents=latents, sigmas=sigmas)
        image = out[0]
        return image if image.size == start.size else image.resize(start.size)

    def _call(
        self,
        loaded: LoadedPipeline,
        draw: Draw,
        pictures: list[Image.Image],
        seeds: Sequence[int],
        on_step: StepCallback,
        **start: Any,
    ) -> list[Image.Image]:
        """One pipeline call, one image per seed, the order's encoded pictures reused."""
        import torch

        pipe = loaded.pipe
        cache = _order_cache(draw)
        own = type(pipe)._encode_vae_image.__get__(pipe)
        pipe._encode_vae_image = cache.encoder(pictures, own)  # this call only
        cfg = draw.params.guidance > 1.0
        width, height = (
            start.pop("width", draw.params.width),
            start.pop("height", draw.params.height),
        )
        try:
            with torch.inference_mode():
                out = pipe(
                    image=pictures,
                    prompt=draw.prompt,
                    negative_prompt=(draw.negative_prompt or " ") if cfg else None,
                    true_cfg_scale=draw.params.guidance,
                    num_images_per_prompt=len(seeds),
                    generator=[torch.Generator("cpu").manual_seed(int(s)) for s in seeds],
                    num_inference_steps=len(start.get("sigmas", ())) or draw.params.steps,
                    width=width,
                    height=height,
                    callback_on_step_end=on_step,
                    output_type="pil",
                    **start,
                )
        finally:
            pipe.__dict__.pop("_encode_vae_image", None)
        return list(out.images)


def _order_cache(draw: Draw) -> Pictures:
    """The order's picture cache (``ref_latents``, made by ``prepare``); a call without
    one (a benchmark, a test) encodes its pictures for itself."""
    return draw.ref_latents if isinstance(draw.ref_latents, Pictures) else Pictures()


def _with_cache(draw: Draw) -> Draw:
    """``draw`` carrying a picture cache, so its per-seed calls share the encodings."""
    if isinstance(draw.ref_latents, Pictures):
        return draw
    return dataclasses.replace(draw, ref_latents=Pictures())


def start_latents(
    pipe: Any, start: Image.Image, strength: float, steps: int, seed: int, width: int, height: int
) -> tuple[Any, list[float]]:
    """The packed latents of ``start`` noised to ``strength`` of a ``steps`` schedule,
    and the sigmas left to run (flow matching: x = (1 - s) * image + s * noise)."""
    import numpy as np
    import torch
    from diffusers.pipelines.qwenimage.pipeline_qwenimage_edit_plus import calculate_shift
    from diffusers.utils.torch_utils import randn_tensor

    generator = torch.Generator("cpu").manual_seed(int(seed))
    device, dtype = pipe._execution_device, pipe.transformer.dtype
    pixels = pipe.image_processor.preprocess(start, height, width).unsqueeze(2)
    with torch.inference_mode():
        image = pipe._encode_vae_image(pixels.to(device, dtype), generator)  # (1, C, 1, h, w)
    channels, h, w = image.shape[1], image.shape[3], image.shape[4]
    packed = pipe._pack_latents(image, 1, channels, h, w)
    noise = randn_tensor(packed.shape, generator=generator, device=device, dtype=dtype)
    sigmas = np.linspace(1.0, 1 / steps, steps)
    config = pipe.scheduler.config
    mu = calculate_shift(
        packed.shape[1],
        config.get("base_image_seq_len", 256),
        config.get("max_image_seq_len", 4096),
        config.get("base_shift", 0.5),
        config.get("max_shift", 1.15),
    )
    schedule = copy.deepcopy(pipe.scheduler)  # the pipeline sets the real one again
    schedule.set_timesteps(sigmas=sigmas, mu=mu, device=device)
    first = min(steps - 1, int(max(steps - min(steps * strength, steps), 0)))  # as img2img
    sigma = float(schedule.sigmas[first])
    return (1 - sigma) * packed + sigma * noise, [float(s) for s in sigmas[first:]]


def load_processor(ref: str, settings: Settings, local: bool) -> Any:
    """The model's processor from its ``processor/`` folder: image processor + tokenizer
    (without the video processor, which needs torchvision)."""
    from transformers import AutoTokenizer
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil,
    )

    hub: dict[str, Any] = {}
    if not local:
        hub = {"cache_dir": settings.models_dir, "local_files_only": True}
    images = Qwen2VLImageProcessorPil.from_pretrained(ref, subfolder="processor", **hub)
    tokenizer = AutoTokenizer.from_pretrained(ref, subfolder="processor", **hub)
    from engine.families.qwen_edit_tiny import image_only_processor_class

    return image_only_processor_class()(image_processor=images, tokenizer=tokenizer)


QWEN_EDIT = QwenImageEdit()
