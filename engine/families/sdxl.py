"""Stable Diffusion XL and SD 1.5: the face from an identity adapter (IP-Adapter).

The person's face becomes adapter inputs (face vectors and aligned crops,
engine/pipeline/identity_input.py) beside a text-to-image UNet; vary, relight and the
face detail pass run the img2img pipeline made from the loaded components with
``from_pipe``, with the same adapter inputs. Speed switches: engine/pipeline/speed.py
(SDPA, fused projections, torch.compile, the fast path). Tiny models:
engine/pipeline/tiny.py (``tiny`` / ``tiny-sdxl``, ``tiny-sd15``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from engine.families.base import Draw, Family, StepCallback, pipeline_kwargs
from engine.families.grids import SDXL_BUCKETS, Grid
from engine.pipeline.adapter import (
    FACEID_PLUSV2,
    FACEID_REPO,
    IP_ADAPTER_REPO,
    PLUS_FACE,
    AdapterFiles,
)
from engine.pipeline.loaded import Defaults, LoadedPipeline

if TYPE_CHECKING:
    from engine.licence_registry import Part
    from engine.model_entry import Entry
    from engine.pipeline.loaded import Optimisations, Resolved
    from engine.training.base import Trainer
    from sitter.config import Settings

log = logging.getLogger(__name__)

# The tiny model: 64 px keeps the whole path near a second on a CPU.
TINY_DEFAULTS = Defaults(steps=4, guidance=5.0, width=64, height=64, identity_scale=1.0)


def img2img_setup(
    loaded: LoadedPipeline, params: Resolved, prompt: str, negative_prompt: str | None
) -> tuple[Any, Resolved, dict[str, Any], bool]:
    """The image-to-image pipeline as the order was rendered: the order's scheduler and
    path, its identity scale and its whole prompt encoded; shared by the face detail
    pass and vary/relight. Returns (pipe, params, text embeddings, CFG on)."""
    from engine.pipeline import long_prompt  # the whole prompt, as the order was rendered
    from engine.pipeline.detail_render import detail_pipe
    from engine.pipeline.speed import choose_path

    base = loaded.pipe
    params = choose_path(loaded, params)  # the scheduler and path the order was rendered with
    pipe = detail_pipe(loaded)
    pipe.scheduler = base.scheduler
    cfg = params.guidance > 1.0
    base.set_ip_adapter_scale(params.identity_scale)
    return pipe, params, long_prompt.encode(pipe, prompt, negative_prompt or None, cfg=cfg), cfg


class StableDiffusion(Family):
    """SDXL or SD 1.5 with an IP-Adapter; the two differ in data, not in code."""

    takes_references = False

    def __init__(
        self,
        name: str,
        title: str,
        class_name: str,
        pipeline: str,
        img2img: str,
        defaults: Defaults,
        max_side: int,
        grid: Grid,
        tiny_models: tuple[str, ...],
        adapters: dict[str, AdapterFiles],
        tiny_builder: Callable[[], Any],
        extra_load: dict[str, Any] | None = None,
    ) -> None:
        self.name = name  # type: ignore[misc]
        self.title = title  # type: ignore[misc]
        self.class_names = (class_name,)  # type: ignore[misc]
        self.img2img_class = img2img  # type: ignore[misc]
        self.tiny_models = tiny_models  # type: ignore[misc]
        self.max_side_real = max_side  # type: ignore[misc]
        self._pipeline = pipeline
        self._defaults = defaults
        self._grid = grid
        self._extra_load = extra_load or {}
        self._adapters = adapters  # the IP-Adapter files by kind, for this base model
        self._tiny_builder = tiny_builder

    def defaults(self, tiny: bool) -> Defaults:
        return TINY_DEFAULTS if tiny else self._defaults

    def grid(self) -> Grid:
        return self._grid

    def build_tiny(self, model: str, folder: Path) -> None:
        self._tiny_builder().save_pretrained(folder, safe_serialization=True)

    def adapter_files_for(self, kind: str) -> AdapterFiles | None:
        return self._adapters.get(kind)

    def load(
        self, settings: Settings, device: str, opts: Optimisations, ref: str, local: bool
    ) -> LoadedPipeline:
        import diffusers

        from engine.pipeline.adapter import adapter_kind, choose_adapter, id_dim_for, load_adapter

        kind = adapter_kind(settings)  # refuse a backend the adapter cannot use, before loading
        kwargs = {**pipeline_kwargs(opts, settings, local), **self._extra_load}
        log.info("loading %s (%s) on %s as %s", settings.model, self.name, device, opts.describe())
        pipe = getattr(diffusers, self._pipeline).from_pretrained(ref, **kwargs)
        is_tiny = settings.model in self.tiny_models
        files = self.adapter_files_for(kind)
        if files is None:
            from sitter.config import ConfigError

            raise ConfigError(f"no {kind} identity adapter for {self.title}")
        spec = choose_adapter(
            files=files,
            tiny=is_tiny,
            kind=kind,
            id_dim=id_dim_for(settings.face_backend),
            unet=pipe.unet,
            models_dir=settings.models_dir,
        )
        log.info("identity adapter: %s", spec.name)
        load_adapter(pipe, spec, settings.models_dir)
        pipe.to(device)
        opts.apply(pipe)
        pipe.set_progress_bar_config(disable=True)
        return LoadedPipeline(
            pipe=pipe,
            family=self.name,
            model=settings.model,
            tiny=is_tiny,
            device=device,
            opts=opts,
            defaults=self.defaults(is_tiny),
            adapter=spec,
        )

    def apply_speedups(self, loaded: LoadedPipeline, settings: Settings) -> None:
        from engine.pipeline import speed

        speed.apply_speedups(  # issue 7's switches
            loaded,
            speed.compile_wanted(settings.compile, loaded.device),
            compile_mode=settings.compile_mode,
            fast_path=settings.fast_path,
        )

    def trainer(self, loaded: LoadedPipeline) -> Trainer:
        """SDXL learns a UNet LoRA; SD 1.5 (one text encoder, no pooled features) not yet."""
        from engine.families.train_sdxl import SdxlTrainer
        from engine.training.base import NotTrainable

        if getattr(loaded.pipe, "text_encoder_2", None) is None:
            raise NotTrainable(self.title)
        return SdxlTrainer(loaded)

    # --- rendering -------------------------------------------------------------------------
    def render(
        self, loaded: LoadedPipeline, draw: Draw, on_step: StepCallback
    ) -> list[Image.Image]:
        import torch

        from engine.pipeline import long_prompt  # no silent truncation at CLIP's 77 tokens
        from engine.pipeline.identity_input import clear_identity, identity_kwargs
        from engine.pipeline.speed import choose_path

        pipe = loaded.pipe
        params = choose_path(loaded, draw.params)  # fast path: 4 steps, no CFG, trailing Euler
        cfg = params.guidance > 1.0
        generators = [torch.Generator("cpu").manual_seed(int(s)) for s in draw.seeds]
        pipe.set_ip_adapter_scale(params.identity_scale)
        text = long_prompt.encode(pipe, draw.prompt, draw.negative_prompt or None, cfg=cfg)
        try:
            with torch.inference_mode():
                if draw.partner_crops:  # two people: one face mask each
                    identity = self._pair_identity(loaded, draw, params, cfg)
                else:
                    identity = identity_kwargs(
                        loaded, draw.refs, draw.crops, cfg=cfg, batch=len(draw.seeds)
                    )
                out = pipe(
                    **text,
                    num_images_per_prompt=len(draw.seeds),
                    generator=generators,
                    num_inference_steps=params.steps,
                    guidance_scale=params.guidance,
                    width=params.width,
                    height=params.height,
                    **identity,
                    callback_on_step_end=on_step,
                    output_type="pil",
                )
        finally:
            clear_identity(loaded)  # also when cancelled or failed
            if draw.partner_crops:
                pipe.set_ip_adapter_scale(params.identity_scale)  # one scale again
        return list(out.images)

    @staticmethod
    def _pair_identity(
        loaded: LoadedPipeline, draw: Draw, params: Resolved, cfg: bool
    ) -> dict[str, Any]:
        """Both people's crops, each person's masked to their side (engine/pipeline/
        identity_pair.py; where each stands: engine/families/together.py)."""
        from engine.families.together import mask_spans
        from engine.pipeline.identity_pair import pair_identity_kwargs

        return pair_identity_kwargs(
            loaded,
            draw.crops,
            draw.partner_crops,
            mask_spans(draw.placement),
            width=params.width,
            height=params.height,
            scale=params.identity_scale,
            cfg=cfg,
        )

    def _img2img(
        self,
        loaded: LoadedPipeline,
        draw: Draw,
        image: Image.Image | list[Image.Image],
        strength: float,
        steps: int | None,
        on_step: StepCallback,
        size: dict[str, int],
    ) -> list[Image.Image]:
        """One batched img2img call with the order's adapter inputs, one image per seed;
        ``steps`` None: as many as the order's path ran (refine_steps)."""
        import torch

        from engine.pipeline.identity_input import clear_identity, identity_kwargs
        from engine.pipeline.img2img import refine_steps

        n = len(draw.seeds)
        pipe, params, text, cfg = img2img_setup(
            loaded, draw.params, draw.prompt, draw.negative_prompt
        )
        if steps is None:
            steps = refine_steps(params.steps, strength)
        try:
            with torch.inference_mode():
                if draw.partner_crops:  # two people (vary / relight): one face mask each
                    side = image[0] if isinstance(image, list) else image
                    w, h = size.get("width", side.width), size.get("height", side.height)
                    identity = self._pair_identity(
                        loaded, draw, replace(params, width=w, height=h), cfg
                    )
                else:
                    identity = identity_kwargs(loaded, draw.refs, draw.crops, cfg=cfg, batch=n)
                out = pipe(
                    **text,
                    image=image,
                    strength=strength,
                    num_images_per_prompt=n,
                    generator=[torch.Generator("cpu").manual_seed(int(s)) for s in draw.seeds],
                    num_inference_steps=steps,
                    guidance_scale=params.guidance,
                    **size,
                    **identity,
                    callback_on_step_end=on_step,
                    output_type="pil",
                )
        finally:
            clear_identity(loaded)  # the person's crop features leave the shared pipeline
            if draw.partner_crops:
                loaded.pipe.set_ip_adapter_scale(params.identity_scale)  # one scale again
        return list(out.images)

    def render_from(
        self,
        loaded: LoadedPipeline,
        draw: Draw,
        start: Image.Image,
        strength: float,
        on_step: StepCallback,
    ) -> list[Image.Image]:
        return self._img2img(loaded, draw, start, strength, None, on_step, {})

    def render_crops(
        self,
        loaded: LoadedPipeline,
        draw: Draw,
        images: Sequence[Image.Image],
        strength: float,
        steps: int,
        on_step: StepCallback,
    ) -> list[Image.Image]:
        side = images[0].width if images else 0
        size = {"width": side, "height": side}
        return self._img2img(loaded, draw, list(images), strength, steps, on_step, size)

    # --- licences and files --------------------------------------------------------------------
    def identity_parts(self, settings: Settings) -> list[Part]:
        from engine.licence_registry import PARTS, part, unknown_part
        from engine.pipeline.adapter import adapter_kind
        from sitter.config import ConfigError

        if settings.model in self.tiny_models:
            return [PARTS["random-init-adapter"]]
        try:
            kind = adapter_kind(settings)
        except ConfigError:  # a backend the adapter cannot use: the loader refuses it anyway
            kind = settings.identity_adapter
        files = self.adapter_files_for(kind)
        if files is None:
            return [unknown_part(f"identity adapter {kind}", "identity adapter")]
        return [part(files.licence_name, "identity adapter"), PARTS["clip-vit-h-14-image-encoder"]]

    def identity_entries(self, settings: Settings) -> list[Entry] | None:
        return None  # the IP-Adapter's files, as engine/models.py lists them


def _tiny_sdxl() -> Any:
    """The tiny SDXL pipeline (engine/pipeline/tiny.py; diffusers imported on use)."""
    from engine.pipeline.tiny import tiny_sdxl

    return tiny_sdxl()


def _tiny_sd15() -> Any:
    from engine.pipeline.tiny import tiny_sd15

    return tiny_sd15()


SDXL = StableDiffusion(
    name="sdxl",
    title="Stable Diffusion XL",
    class_name="StableDiffusionXLPipeline",
    pipeline="StableDiffusionXLPipeline",
    img2img="StableDiffusionXLImg2ImgPipeline",
    defaults=Defaults(steps=30, guidance=5.0, width=1024, height=1024, identity_scale=0.8),
    max_side=1536,
    grid=SDXL_BUCKETS,  # its published training buckets
    tiny_models=("tiny", "tiny-sdxl"),  # "tiny" mirrors the SDXL default
    adapters={
        PLUS_FACE: AdapterFiles(
            PLUS_FACE,
            "ip-adapter-plus-face_sdxl_vit-h",
            IP_ADAPTER_REPO,
            "sdxl_models",
            "ip-adapter-plus-face_sdxl_vit-h.safetensors",
        ),
        FACEID_PLUSV2: AdapterFiles(
            FACEID_PLUSV2,
            "ip-adapter-faceid-plusv2_sdxl",
            FACEID_REPO,
            "",
            "ip-adapter-faceid-plusv2_sdxl.bin",
        ),
    },
    tiny_builder=_tiny_sdxl,
)
SD15 = StableDiffusion(
    name="sd15",
    title="Stable Diffusion 1.5",
    class_name="StableDiffusionPipeline",
    pipeline="StableDiffusionPipeline",
    img2img="StableDiffusionImg2ImgPipeline",
    defaults=Defaults(steps=30, guidance=7.0, width=512, height=512, identity_scale=0.8),
    max_side=768,
    grid=(512, 64),  # multiples of 64 around 512 x 512
    tiny_models=("tiny-sd15",),
    adapters={
        PLUS_FACE: AdapterFiles(
            PLUS_FACE,
            "ip-adapter-plus-face_sd15",
            IP_ADAPTER_REPO,
            "models",
            "ip-adapter-plus-face_sd15.safetensors",
        ),
        FACEID_PLUSV2: AdapterFiles(
            FACEID_PLUSV2,
            "ip-adapter-faceid-plusv2_sd15",
            FACEID_REPO,
            "",
            "ip-adapter-faceid-plusv2_sd15.bin",
        ),
    },
    tiny_builder=_tiny_sd15,
    extra_load={"safety_checker": None, "requires_safety_checker": False},
)
