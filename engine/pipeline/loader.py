"""Load the configured diffusers pipeline: SDXL, SD 1.5 or FLUX.2 [klein], hub id or local folder.

The family is read from the model's ``model_index.json`` (``_class_name``), so
a local SD 1.5 folder or hub id just works. The tiny offline model is saved as
such a folder by :mod:`engine.pipeline.tiny` and loaded through this same code.
The precision and layout switches live in :class:`Optimisations`
(engine/pipeline/loaded.py, with :class:`LoadedPipeline`); the speed work of issue 7
(fused attention, torch.compile, the fast path) is applied to the loaded pipeline
right after by :mod:`engine.pipeline.speed` (``SITTER_COMPILE``, ``SITTER_FAST_PATH``),
which records what it did as ``LoadedPipeline.speed``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from engine.pipeline import klein_speed, speed, tiny
from engine.pipeline.adapter import (
    DLIB_DIM,
    INSIGHTFACE_DIM,
    AdapterSpec,
    adapter_kind,
    choose_adapter,
    load_adapter,
)
from engine.pipeline.loaded import Defaults, LoadedPipeline, Optimisations
from sitter.config import ConfigError, FaceBackend, Settings

log = logging.getLogger(__name__)

FAMILIES = {
    "StableDiffusionXLPipeline": "sdxl",
    "StableDiffusionPipeline": "sd15",
    "Flux2KleinPipeline": "klein",  # identity from reference images: engine.pipeline.klein
}
# Families that take the person's photos as ``image=[...]`` instead of an adapter.
REFERENCE_FAMILIES = frozenset({"klein"})


FAMILY_DEFAULTS = {
    "sdxl": Defaults(steps=30, guidance=5.0, width=1024, height=1024, identity_scale=0.8),
    "sd15": Defaults(steps=30, guidance=7.0, width=512, height=512, identity_scale=0.8),
    # FLUX.2 [klein] 4B is step-distilled: 4 steps, no guidance (its model card).
    "klein": Defaults(steps=4, guidance=1.0, width=1024, height=1024, identity_scale=1.0),
}
# The tiny model: 64 px keeps the whole path near a second on a CPU.
TINY_DEFAULTS = Defaults(steps=4, guidance=5.0, width=64, height=64, identity_scale=1.0)
TINY_KLEIN_DEFAULTS = Defaults(steps=4, guidance=1.0, width=64, height=64, identity_scale=1.0)


def resolve_device(setting: str) -> str:
    import torch

    if setting in ("", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"SITTER_DEVICE={setting} but this machine has no CUDA GPU torch can use")
    return setting


def id_dim_for(backend: FaceBackend | str) -> int:
    return INSIGHTFACE_DIM if FaceBackend(backend) == FaceBackend.INSIGHTFACE else DLIB_DIM


def model_folder(settings: Settings) -> tuple[Path | None, str]:
    """(local folder or None, what to pass to from_pretrained)."""
    if tiny.is_tiny(settings.model):
        folder = tiny.ensure_tiny_model(settings.model, settings.models_dir)
        return folder, str(folder)
    local = Path(settings.model).expanduser()
    if local.is_dir():
        return local, str(local)
    return None, settings.model


def detect_family(settings: Settings) -> str:
    """sdxl or sd15, from the model's model_index.json (local or in the cache)."""
    folder, ref = model_folder(settings)
    if folder is not None:
        index = folder / "model_index.json"
        if not index.is_file():
            raise ConfigError(
                f"SITTER_MODEL={settings.model}: {folder} has no model_index.json "
                "(expected a diffusers model folder)"
            )
    else:
        from huggingface_hub import hf_hub_download

        try:
            index = Path(
                hf_hub_download(
                    ref, "model_index.json", cache_dir=settings.models_dir, local_files_only=True
                )
            )
        except Exception:
            raise ConfigError(
                f"SITTER_MODEL={ref} is not in the model cache {settings.models_dir}: "
                "run `sitter models fetch` on a machine with internet access, "
                "or point SITTER_MODEL at a local diffusers folder"
            ) from None
    cls = json.loads(index.read_text(encoding="utf-8")).get("_class_name", "")
    family = FAMILIES.get(cls)
    if family is None:
        raise ConfigError(
            f"SITTER_MODEL={settings.model} is a {cls or 'unknown'} model; "
            "Sitter supports StableDiffusionXLPipeline, StableDiffusionPipeline and "
            "Flux2KleinPipeline"
        )
    return family


def load_pipeline(settings: Settings) -> LoadedPipeline:
    """Load base model + identity adapter on the configured device, optimised."""
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    device = resolve_device(settings.device)
    opts = Optimisations.for_device(device, settings)
    family = detect_family(settings)
    if family in REFERENCE_FAMILIES:  # no IP-Adapter: the person's photos are the input
        return load_klein(settings, device, opts)
    kind = adapter_kind(settings)  # refuse a backend the adapter cannot use, before loading
    folder, ref = model_folder(settings)
    cls = StableDiffusionXLPipeline if family == "sdxl" else StableDiffusionPipeline
    kwargs: dict[str, Any] = {"dtype": opts.dtype}
    if folder is None:
        kwargs.update(cache_dir=settings.models_dir, local_files_only=True)
    if family == "sd15":
        kwargs.update(safety_checker=None, requires_safety_checker=False)
    log.info("loading %s (%s) on %s as %s", settings.model, family, device, opts.describe())
    pipe = cls.from_pretrained(ref, **kwargs)
    is_tiny = tiny.is_tiny(settings.model)
    spec = choose_adapter(
        family=family,
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
    defaults = TINY_DEFAULTS if is_tiny else FAMILY_DEFAULTS[family]
    loaded = LoadedPipeline(
        pipe=pipe,
        family=family,
        model=settings.model,
        tiny=is_tiny,
        device=device,
        opts=opts,
        defaults=defaults,
        adapter=spec,
    )
    speed.apply_speedups(  # issue 7's switches
        loaded,
        speed.compile_wanted(settings.compile, device),
        compile_mode=settings.compile_mode,
        fast_path=settings.fast_path,
    )
    return loaded


def load_klein(settings: Settings, device: str, opts: Optimisations) -> LoadedPipeline:
    """FLUX.2 [klein]: no adapter; its own speed switches (engine.pipeline.klein_speed)."""
    from diffusers import Flux2KleinPipeline

    folder, ref = model_folder(settings)
    kwargs: dict[str, Any] = {"dtype": opts.dtype}
    if folder is None:
        kwargs.update(cache_dir=settings.models_dir, local_files_only=True)
    log.info("loading %s (klein) on %s as %s", settings.model, device, opts.describe())
    pipe = Flux2KleinPipeline.from_pretrained(ref, **kwargs)
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    is_tiny = tiny.is_tiny(settings.model)
    spec = AdapterSpec(
        kind="reference-images",
        source=ref,
        subfolder="",
        weight_name="",
        encoder_source="",
        encoder_subfolder="",
        id_dim=id_dim_for(settings.face_backend),
        trained=True,
        name="reference images (FLUX.2 [klein] image=[...], up to 4)",
        licence_name="reference-images",
    )
    loaded = LoadedPipeline(
        pipe=pipe,
        family="klein",
        model=settings.model,
        tiny=is_tiny,
        device=device,
        opts=Optimisations(dtype=opts.dtype, sdpa=False, channels_last=False),
        defaults=TINY_KLEIN_DEFAULTS if is_tiny else FAMILY_DEFAULTS["klein"],
        adapter=spec,
    )
    klein_speed.apply_speedups(
        loaded,
        speed.compile_wanted(settings.compile, device),
        compile_mode=settings.compile_mode,
    )
    return loaded
