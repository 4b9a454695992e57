"""The identity adapter: which IP-Adapter fits the face backend, and loading it.

Two adapters, both image-conditioned through a CLIP ViT-H image encoder:

- **IP-Adapter Plus Face** (``h94/IP-Adapter``, Apache-2.0) sees only the aligned
  face crops, so it works with every face backend (dlib, AuraFace, insightface).
- **IP-Adapter FaceID Plus v2** (``h94/IP-Adapter-FaceID``, non-commercial research
  only) takes an insightface ``buffalo_l`` embedding (what it was trained on) plus
  the CLIP features of the aligned crop; it holds a likeness better.

``SITTER_IDENTITY_ADAPTER`` picks one (``auto``: FaceID Plus v2 with buffalo_l,
Plus Face otherwise). There is no "off": a configuration whose face backend
cannot feed the chosen adapter refuses to start. The tiny model gets random
weights of the same classes, written where the real files are in their
repositories (:mod:`engine.pipeline.adapter_random`) and loaded by the very same
``load_adapter`` call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitter.config import ConfigError, FaceBackend, Settings

log = logging.getLogger(__name__)

PLUS_FACE = "plus-face"
FACEID_PLUSV2 = "faceid-plusv2"
KINDS = (PLUS_FACE, FACEID_PLUSV2)
INSIGHTFACE_DIM = 512
DLIB_DIM = 128
FACEID_PACK = "buffalo_l"  # the embeddings h94's FaceID adapters were trained on
IP_ADAPTER_REPO = "h94/IP-Adapter"
FACEID_REPO = "h94/IP-Adapter-FaceID"
ENCODER_SUBFOLDER = "models/image_encoder"  # OpenCLIP ViT-H-14, for both adapters
ENCODER_FILES = ("config.json", "model.safetensors")


@dataclass(frozen=True)
class AdapterFiles:
    """Where an adapter's files are on the Hub: what fetch takes and the loader reads."""

    kind: str
    licence_name: str  # the name in the licence registry
    repo: str
    subfolder: str
    weight_name: str
    encoder_repo: str = IP_ADAPTER_REPO
    encoder_subfolder: str = ENCODER_SUBFOLDER

    def hub_files(self) -> list[tuple[str, str]]:
        """(repo, path) of every file the loader reads."""
        weight = f"{self.subfolder}/{self.weight_name}" if self.subfolder else self.weight_name
        enc = [(self.encoder_repo, f"{self.encoder_subfolder}/{f}") for f in ENCODER_FILES]
        return [(self.repo, weight), *enc]


LICENCES = {
    PLUS_FACE: ("Apache-2.0 (h94/IP-Adapter; encoder: OpenCLIP ViT-H-14, MIT)", True),
    FACEID_PLUSV2: ("IP-Adapter FaceID: non-commercial research only", False),
}


@dataclass(frozen=True)
class AdapterSpec:
    """The adapter a pipeline loads: its files (a repo id or a local folder) and inputs."""

    kind: str  # PLUS_FACE or FACEID_PLUSV2
    source: str  # repo id or local folder holding the weight file
    subfolder: str
    weight_name: str
    encoder_source: str  # repo id or local folder holding the CLIP image encoder
    encoder_subfolder: str
    id_dim: int  # the face backend's embedding size (FaceID Plus v2 reads it)
    trained: bool
    name: str  # reported with every result
    licence_name: str = ""

    @property
    def takes_embedding(self) -> bool:
        return self.kind == FACEID_PLUSV2


def _embeddings_fit_faceid(settings: Settings) -> bool:
    return settings.face_backend == FaceBackend.INSIGHTFACE and settings.face_pack == FACEID_PACK


def adapter_kind(settings: Settings) -> str:
    """The identity adapter this configuration uses; ConfigError when it cannot work."""
    wanted = settings.identity_adapter
    if wanted == "auto":
        return FACEID_PLUSV2 if _embeddings_fit_faceid(settings) else PLUS_FACE
    if wanted == FACEID_PLUSV2 and not _embeddings_fit_faceid(settings):
        made = (
            "dlib's 128-d embeddings"
            if settings.face_backend == FaceBackend.DLIB
            else f"embeddings of the {settings.face_pack} pack"
        )
        raise ConfigError(
            f"SITTER_IDENTITY_ADAPTER={FACEID_PLUSV2} was trained on insightface "
            f"{FACEID_PACK} embeddings, but this configuration makes {made}. Use "
            f"SITTER_IDENTITY_ADAPTER={PLUS_FACE} (Apache-2.0, works with every face "
            f"backend, fed with the face crops) or auto; or SITTER_FACE_BACKEND=insightface "
            f"with SITTER_FACE_PACK={FACEID_PACK} (non-commercial research only)."
        )
    if wanted not in KINDS:  # config.py validates too; this guards direct construction
        raise ConfigError(f"SITTER_IDENTITY_ADAPTER={wanted!r}: use auto, {', '.join(KINDS)}")
    return wanted


def choose_adapter(
    *, files: AdapterFiles, tiny: bool, kind: str, id_dim: int, unet: Any, models_dir: Path
) -> AdapterSpec:
    """The adapter from ``files`` (the model family's rows for ``kind``,
    ``Family.adapter_files_for``): the Hub's, or random ones in their layout for tiny."""
    if tiny:
        from engine.pipeline.adapter_random import ensure_random_adapter

        weights, encoder = ensure_random_adapter(kind, unet, id_dim, files, models_dir)
        return AdapterSpec(
            kind=kind,
            source=str(weights),
            subfolder=files.subfolder,
            weight_name=files.weight_name,
            encoder_source=str(encoder),
            encoder_subfolder=files.encoder_subfolder,
            id_dim=id_dim,
            trained=False,
            name=f"{files.licence_name} random-init (tiny model, untrained)",
            licence_name=files.licence_name,
        )
    return AdapterSpec(
        kind=kind,
        source=files.repo,
        subfolder=files.subfolder,
        weight_name=files.weight_name,
        encoder_source=files.encoder_repo,
        encoder_subfolder=files.encoder_subfolder,
        id_dim=id_dim,
        trained=True,
        name=f"{files.licence_name} ({files.repo})",
        licence_name=files.licence_name,
    )


def _hub_kwargs(source: str, cache_dir: Path | None) -> dict[str, Any]:
    return {} if Path(source).is_dir() else {"cache_dir": cache_dir, "local_files_only": True}


def _not_cached(spec: AdapterSpec, what: str, cache_dir: Path | None, exc: BaseException) -> None:
    raise ConfigError(
        f"identity adapter {spec.licence_name}: {what} is not in the model cache {cache_dir}: "
        f"run `sitter models fetch` ({type(exc).__name__})"
    ) from None


def load_adapter(pipe: Any, spec: AdapterSpec, cache_dir: Path | None) -> None:
    """``pipe.load_ip_adapter`` the documented way for each adapter.

    Plus Face: one call that also loads the image encoder from the same repository.
    FaceID Plus v2: its encoder lives in another repository, so it is loaded first
    and registered on the pipeline, then the adapter with ``image_encoder_folder=None``.
    """
    if spec.encoder_source != spec.source:
        from transformers import CLIPVisionModelWithProjection

        try:
            encoder = CLIPVisionModelWithProjection.from_pretrained(
                spec.encoder_source,
                subfolder=spec.encoder_subfolder,
                dtype=pipe.dtype,
                **_hub_kwargs(spec.encoder_source, cache_dir),
            )
        except OSError as exc:
            _not_cached(spec, f"{spec.encoder_source}/{spec.encoder_subfolder}", cache_dir, exc)
        pipe.register_modules(image_encoder=encoder.to(pipe.device))
        encoder_folder = None
    else:
        encoder_folder = spec.encoder_subfolder
    try:
        pipe.load_ip_adapter(
            spec.source,
            subfolder=spec.subfolder,
            weight_name=spec.weight_name,
            image_encoder_folder=encoder_folder,
            **_hub_kwargs(spec.source, cache_dir),
        )
    except OSError as exc:  # huggingface_hub / diffusers: file not found in the cache
        where = "/".join(p for p in (spec.source, spec.subfolder, spec.weight_name) if p)
        _not_cached(spec, where, cache_dir, exc)
    if pipe.image_encoder is None:  # the adapters below cannot work without it
        raise ConfigError(f"identity adapter {spec.licence_name}: no CLIP image encoder loaded")
    if getattr(pipe.unet, "peft_config", None):
        # h94's FaceID files carry a LoRA for every attention layer, trained with the
        # adapter; diffusers loads it through peft. Merge it into the UNet's weights, so
        # the speed switches (fused QKV, torch.compile) see plain layers and keep it.
        pipe.fuse_lora(components=["unet"])
        pipe.unload_lora_weights()
        log.info("identity adapter %s: its LoRA is merged into the UNet", spec.licence_name)


def id_dim_for(backend: FaceBackend | str) -> int:
    """The face vector's size for a face backend (what an adapter is sized for)."""
    return INSIGHTFACE_DIM if FaceBackend(backend) == FaceBackend.INSIGHTFACE else DLIB_DIM
