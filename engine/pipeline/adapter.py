"""The identity adapter: IP-Adapter FaceID, fed face embeddings instead of images.

With insightface (512-d ArcFace embeddings) on a real model this is h94's
trained IP-Adapter FaceID checkpoint (non-commercial research licence). No
trained FaceID exists for dlib's 128-d embeddings, and the tiny model has no
checkpoint at all, so for those the same adapter layers (diffusers'
``IPAdapterFaceIDImageProjection`` plus the IP-Adapter attention processors)
are built with seeded random weights, saved as a local ``.safetensors`` and
loaded through the very same ``pipe.load_ip_adapter(...)`` call. On a real model
such an untrained adapter would only add noise, so its scale is forced to 0
there (the likeness check still runs) and the worker logs a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# h94/IP-Adapter-FaceID file names per model family.
FACEID_WEIGHTS = {"sdxl": "ip-adapter-faceid_sdxl.bin", "sd15": "ip-adapter-faceid_sd15.bin"}
INSIGHTFACE_DIM = 512
DLIB_DIM = 128
RANDOM_WEIGHT_NAME = "ip-adapter-faceid-random.safetensors"
_NUM_TOKENS = 4  # FaceID projects one embedding to four tokens
_MULT = 2  # hidden width of the projection's MLP = MULT * embedding size
_SEED = 1234
RANDOM_VERSION = 1


@dataclass(frozen=True)
class AdapterSpec:
    """Where an adapter's weights are and what they expect."""

    source: str  # repo id or local folder
    weight_name: str
    id_dim: int
    trained: bool
    name: str  # reported with every result, e.g. "ip-adapter-faceid (h94/IP-Adapter-FaceID)"


def _hidden_size(unet: Any, name: str) -> int:
    """The attention width at processor ``name`` (the same rule diffusers uses)."""
    channels = list(unet.config.block_out_channels)
    if name.startswith("mid_block"):
        return channels[-1]
    if name.startswith("up_blocks"):
        return list(reversed(channels))[int(name[len("up_blocks.")])]
    return channels[int(name[len("down_blocks.")])]


def random_faceid_state_dict(unet: Any, id_dim: int) -> dict[str, Any]:
    """A FaceID checkpoint in the original (h94) key layout, with seeded random weights."""
    import torch

    gen = torch.Generator().manual_seed(_SEED)
    cross = int(unet.config.cross_attention_dim)

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen) * 0.02

    sd: dict[str, torch.Tensor] = {
        "image_proj.proj.0.weight": randn(id_dim * _MULT, id_dim),
        "image_proj.proj.0.bias": torch.zeros(id_dim * _MULT),
        "image_proj.proj.2.weight": randn(cross * _NUM_TOKENS, id_dim * _MULT),
        "image_proj.proj.2.bias": torch.zeros(cross * _NUM_TOKENS),
        "image_proj.norm.weight": torch.ones(cross),
        "image_proj.norm.bias": torch.zeros(cross),
    }
    # Cross-attention processors are numbered 1, 3, 5, ... in attn_processors order.
    key_id = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        hidden = _hidden_size(unet, name)
        sd[f"ip_adapter.{key_id}.to_k_ip.weight"] = randn(hidden, cross)
        sd[f"ip_adapter.{key_id}.to_v_ip.weight"] = randn(hidden, cross)
        key_id += 2
    return sd


def ensure_random_adapter(unet: Any, id_dim: int, models_dir: Path) -> Path:
    """Write (once) the random FaceID weights that fit ``unet``; return their folder."""
    import os
    import tempfile

    from safetensors.torch import save_file

    cfg = unet.config
    tag = "x".join(str(c) for c in cfg.block_out_channels)
    folder = (
        models_dir
        / "adapters"
        / f"faceid-random-v{RANDOM_VERSION}-{id_dim}d-c{cfg.cross_attention_dim}-b{tag}"
        f"-{len(unet.attn_processors)}"
    )
    target = folder / RANDOM_WEIGHT_NAME
    if target.is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    os.close(fd)
    save_file(random_faceid_state_dict(unet, id_dim), tmp)
    os.replace(tmp, target)
    return folder


def choose_adapter(
    *, family: str, tiny: bool, id_dim: int, configured: str, unet: Any, models_dir: Path
) -> AdapterSpec:
    """Pick the adapter for this model and face backend."""
    if not tiny and id_dim == INSIGHTFACE_DIM:
        weight = FACEID_WEIGHTS[family]
        local = Path(configured).expanduser()
        if local.is_dir() and not (local / weight).is_file():
            found = sorted(p.name for p in local.iterdir() if p.suffix in (".bin", ".safetensors"))
            raise FileNotFoundError(
                f"SITTER_IDENTITY_ADAPTER={configured} has no {weight} "
                f"(found: {', '.join(found) or 'nothing'})"
            )
        return AdapterSpec(
            source=str(local) if local.is_dir() else configured,
            weight_name=weight,
            id_dim=id_dim,
            trained=True,
            name=f"ip-adapter-faceid {configured}/{weight}",
        )
    folder = ensure_random_adapter(unet, id_dim, models_dir)
    return AdapterSpec(
        source=str(folder),
        weight_name=RANDOM_WEIGHT_NAME,
        id_dim=id_dim,
        trained=False,
        name=f"ip-adapter-faceid random-init {id_dim}-d (untrained)",
    )


def load_adapter(pipe: Any, spec: AdapterSpec, cache_dir: Path | None) -> None:
    """``pipe.load_ip_adapter`` for FaceID: no CLIP image encoder, embeddings come in."""
    local = Path(spec.source).is_dir()
    hub = {} if local else {"cache_dir": cache_dir, "local_files_only": True}
    try:
        pipe.load_ip_adapter(
            spec.source,
            subfolder="",
            weight_name=spec.weight_name,
            image_encoder_folder=None,
            **hub,
        )
    except OSError as exc:  # huggingface_hub / diffusers: file not found in the cache
        if local:
            raise
        from sitter.config import ConfigError

        raise ConfigError(
            f"identity adapter {spec.source}/{spec.weight_name} is not in the model cache "
            f"{cache_dir}: run `sitter models fetch`, or set SITTER_IDENTITY_ADAPTER to a "
            f"local folder holding {spec.weight_name} ({type(exc).__name__})"
        ) from None
