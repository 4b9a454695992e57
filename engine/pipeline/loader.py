"""Load the configured diffusers pipeline of any family (engine/families/), hub id or folder.

The family is read from the model's ``model_index.json`` (``_class_name``), so
a local SD 1.5 folder or hub id just works. The tiny offline models are saved as
such folders by their families (:mod:`engine.pipeline.tiny`) and loaded through this
same code.
The precision and layout switches live in :class:`Optimisations`
(engine/pipeline/loaded.py, with :class:`LoadedPipeline`); the speed work of issue 7
(fused attention, torch.compile, the fast path) is applied to the loaded pipeline
right after by its family (``SITTER_COMPILE``, ``SITTER_FAST_PATH``), which records
what it did as ``LoadedPipeline.speed``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from engine import families
from engine.pipeline.adapter import id_dim_for  # noqa: F401  (its callers' old home)
from engine.pipeline.loaded import Defaults, LoadedPipeline, Optimisations
from sitter.config import ConfigError, Settings

log = logging.getLogger(__name__)

# _class_name -> family code (read by tests and benchmarks; the families own the data).
FAMILIES = {cls: f.name for f in families.FAMILIES for cls in f.class_names}
FAMILY_DEFAULTS: dict[str, Defaults] = {f.name: f.defaults(False) for f in families.FAMILIES}
TINY_DEFAULTS = families.SDXL.defaults(True)


def resolve_device(setting: str) -> str:
    import torch

    if setting in ("", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"SITTER_DEVICE={setting} but this machine has no CUDA GPU torch can use")
    return setting


def model_folder(settings: Settings) -> tuple[Path | None, str]:
    """(local folder or None, what to pass to from_pretrained)."""
    if families.is_tiny(settings.model):
        folder = families.ensure_tiny_model(settings.model, settings.models_dir)
        return folder, str(folder)
    local = Path(settings.model).expanduser()
    if local.is_dir():
        return local, str(local)
    return None, settings.model


def detect_family(settings: Settings) -> str:
    """The family's code, from the model's model_index.json (local or in the cache)."""
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
    family = families.by_class_name(cls)
    if family is None:
        known = families.class_names()
        raise ConfigError(
            f"SITTER_MODEL={settings.model} is a {cls or 'unknown'} model; "
            f"Sitter supports {', '.join(known[:-1])} and {known[-1]}"
        )
    return family.name


def load_pipeline(settings: Settings) -> LoadedPipeline:
    """Load the base model and its identity path on the configured device, optimised:
    the family (engine/families/) loads it and applies its speed switches."""
    device = resolve_device(settings.device)
    opts = Optimisations.for_device(device, settings)
    family = families.by_name(detect_family(settings))
    folder, ref = model_folder(settings)
    loaded = family.load(settings, device, opts, ref, local=folder is not None)
    family.apply_speedups(loaded, settings)
    return loaded
