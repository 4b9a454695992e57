"""Random identity adapters for the tiny model, in the real files' names and layouts.

The tiny model has no trained IP-Adapter, so this writes seeded random weights
of the right shapes where the Hub repositories keep theirs: a folder laid out
like ``h94/IP-Adapter`` (``sdxl_models/ip-adapter-plus-face_sdxl_vit-h.safetensors``
and the CLIP image encoder in ``models/image_encoder``) and one like
``h94/IP-Adapter-FaceID`` (``ip-adapter-faceid-plusv2_sdxl.bin``, a torch file
like h94's). The state dicts use the original (h94) key names, so diffusers'
``load_ip_adapter`` converts them into its real projection classes
(``IPAdapterPlusImageProjection``, ``IPAdapterFaceIDPlusImageProjection``) with a
strict load: a wrong key or shape fails here as it would with the real file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

RANDOM_VERSION = 4
_SEED = 1234
_DEPTH = 4  # diffusers builds both resamplers with 4 blocks
_DIM_HEAD = 64  # and reads the head count as to_q rows // 64
_FF_MULT = 4
PLUS_QUERIES = 16  # Plus Face: 16 tokens per face crop, like the real SDXL file
FACEID_TOKENS = 4  # FaceID Plus: the embedding becomes 4 tokens
LORA_RANK = 4  # the FaceID LoRA (rank 128 in the real SDXL file)
_RESAMPLER_DIM = 64  # Plus Face's resampler width in the tiny adapter (1280 in the real one)
# A tiny CLIP ViT in the real encoder's geometry (224 px, 14 px patches: 257 tokens).
ENCODER_CONFIG: dict[str, Any] = {
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "image_size": 224,
    "patch_size": 14,
    "projection_dim": 32,
}


def _hidden_size(unet: Any, name: str) -> int:
    """The attention width at processor ``name`` (the same rule diffusers uses)."""
    channels = list(unet.config.block_out_channels)
    if name.startswith("mid_block"):
        return channels[-1]
    if name.startswith("up_blocks"):
        return list(reversed(channels))[int(name[len("up_blocks.")])]
    return channels[int(name[len("down_blocks.")])]


class _Init:
    """Seeded tensors: normal weights of std 1/sqrt(fan_in) (the signal keeps its size
    through the layers, so the identity input visibly steers the tiny model), zero
    biases, unit norms."""

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.gen = torch.Generator().manual_seed(_SEED)

    def w(self, *shape: int, std: float | None = None) -> Any:
        return self.torch.randn(*shape, generator=self.gen) * (std or shape[-1] ** -0.5)

    def zeros(self, n: int) -> Any:
        return self.torch.zeros(n)

    def ones(self, n: int) -> Any:
        return self.torch.ones(n)


def _resampler(init: _Init, prefix: str, dim: int, inner: int) -> dict[str, Any]:
    """The perceiver blocks of h94's Resampler / FacePerceiverResampler (original keys)."""
    sd: dict[str, Any] = {}
    for i in range(_DEPTH):
        p = f"{prefix}layers.{i}."
        for norm in ("0.norm1", "0.norm2", "1.0"):
            sd[f"{p}{norm}.weight"], sd[f"{p}{norm}.bias"] = init.ones(dim), init.zeros(dim)
        sd[f"{p}0.to_q.weight"] = init.w(inner, dim)
        sd[f"{p}0.to_kv.weight"] = init.w(2 * inner, dim)
        sd[f"{p}0.to_out.weight"] = init.w(dim, inner)
        sd[f"{p}1.1.weight"] = init.w(dim * _FF_MULT, dim)
        sd[f"{p}1.3.weight"] = init.w(dim, dim * _FF_MULT)
    return sd


def ip_layers(unet: Any, init: _Init | None = None) -> dict[str, Any]:
    """to_k_ip / to_v_ip of every cross-attention processor (numbered 1, 3, 5, ...)."""
    init = init or _Init()
    cross = int(unet.config.cross_attention_dim)
    sd: dict[str, Any] = {}
    key_id = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        hidden = _hidden_size(unet, name)
        sd[f"ip_adapter.{key_id}.to_k_ip.weight"] = init.w(hidden, cross)
        sd[f"ip_adapter.{key_id}.to_v_ip.weight"] = init.w(hidden, cross)
        key_id += 2
    return sd


def plus_face_state_dict(unet: Any, clip_dim: int) -> dict[str, Any]:
    """IP-Adapter Plus (Face): CLIP patch features -> 16 tokens, flat h94 keys."""
    init = _Init()
    dim, cross = _RESAMPLER_DIM, int(unet.config.cross_attention_dim)
    sd = {
        "image_proj.latents": init.w(1, PLUS_QUERIES, dim, std=dim**-0.5),
        "image_proj.proj_in.weight": init.w(dim, clip_dim),
        "image_proj.proj_in.bias": init.zeros(dim),
        "image_proj.proj_out.weight": init.w(cross, dim),
        "image_proj.proj_out.bias": init.zeros(cross),
        "image_proj.norm_out.weight": init.ones(cross),
        "image_proj.norm_out.bias": init.zeros(cross),
    }
    sd.update(_resampler(init, "image_proj.", dim, _DIM_HEAD * max(1, dim // _DIM_HEAD)))
    sd.update(ip_layers(unet, init))
    return sd


def faceid_plus_state_dict(unet: Any, id_dim: int, clip_dim: int) -> dict[str, Any]:
    """IP-Adapter FaceID Plus (v2): embedding -> 4 tokens refined by the crop's CLIP features."""
    init = _Init()
    cross = int(unet.config.cross_attention_dim)
    sd = {
        "image_proj.proj.0.weight": init.w(id_dim * 2, id_dim),
        "image_proj.proj.0.bias": init.zeros(id_dim * 2),
        "image_proj.proj.2.weight": init.w(cross * FACEID_TOKENS, id_dim * 2),
        "image_proj.proj.2.bias": init.zeros(cross * FACEID_TOKENS),
        "image_proj.norm.weight": init.ones(cross),
        "image_proj.norm.bias": init.zeros(cross),
    }
    pr = "image_proj.perceiver_resampler."
    sd[f"{pr}proj_in.weight"], sd[f"{pr}proj_in.bias"] = init.w(cross, clip_dim), init.zeros(cross)
    sd[f"{pr}proj_out.weight"], sd[f"{pr}proj_out.bias"] = init.w(cross, cross), init.zeros(cross)
    sd[f"{pr}norm_out.weight"], sd[f"{pr}norm_out.bias"] = init.ones(cross), init.zeros(cross)
    sd.update(_resampler(init, pr, cross, _DIM_HEAD * max(1, cross // _DIM_HEAD)))
    sd.update(ip_layers(unet, init))
    sd.update(_faceid_lora(init, unet))
    return sd


def _faceid_lora(init: _Init, unet: Any) -> dict[str, Any]:
    """The LoRA h94's FaceID files carry for every attention layer (numbered 0, 1, 2, ...
    in attn_processors order): diffusers loads it with peft."""
    cross = int(unet.config.cross_attention_dim)
    sd: dict[str, Any] = {}
    for key_id, name in enumerate(unet.attn_processors):
        hidden = _hidden_size(unet, name)
        context = hidden if name.endswith("attn1.processor") else cross
        for proj, fan_in in (("to_q", hidden), ("to_k", context), ("to_v", context)):
            sd[f"ip_adapter.{key_id}.{proj}_lora.down.weight"] = init.w(LORA_RANK, fan_in)
            sd[f"ip_adapter.{key_id}.{proj}_lora.up.weight"] = init.w(hidden, LORA_RANK)
        sd[f"ip_adapter.{key_id}.to_out_lora.down.weight"] = init.w(LORA_RANK, hidden)
        sd[f"ip_adapter.{key_id}.to_out_lora.up.weight"] = init.w(hidden, LORA_RANK)
    return sd


def nested(flat: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """h94's .bin layout: {"image_proj": {...}, "ip_adapter": {...}}."""
    out: dict[str, dict[str, Any]] = {"image_proj": {}, "ip_adapter": {}}
    for key, value in flat.items():
        part, _, rest = key.partition(".")
        out[part][rest] = value
    return out


def save_image_encoder(folder: Path) -> None:
    """A seeded tiny ``CLIPVisionModelWithProjection``, saved like h94's models/image_encoder."""
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(_SEED)
    CLIPVisionModelWithProjection(CLIPVisionConfig(**ENCODER_CONFIG)).save_pretrained(
        folder, safe_serialization=True
    )


def ensure_random_adapter(
    kind: str, unet: Any, id_dim: int, files: Any, models_dir: Path
) -> tuple[Path, Path]:
    """Write (once) the random adapter ``kind`` for ``unet``; return (weights repo, encoder repo).

    ``files`` is the adapter's :class:`engine.pipeline.adapter.AdapterFiles`: the
    random weights go exactly where the real ones are in their repositories.
    """
    from safetensors.torch import save_file

    cfg = unet.config
    tag = "x".join(str(c) for c in cfg.block_out_channels)
    root = (
        models_dir
        / "adapters"
        / f"{kind}-random-v{RANDOM_VERSION}-{id_dim}d-c{cfg.cross_attention_dim}-b{tag}"
        f"-{len(unet.attn_processors)}"
    )
    weights_repo = root / files.repo.split("/")[-1]
    encoder_repo = root / files.encoder_repo.split("/")[-1]
    if (root / "complete").is_file():
        return weights_repo, encoder_repo
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{kind}-", dir=root.parent))
    try:
        enc_dir = tmp / encoder_repo.name / files.encoder_subfolder
        save_image_encoder(enc_dir)
        clip_dim = int(ENCODER_CONFIG["hidden_size"])
        target = tmp / weights_repo.name / files.subfolder / files.weight_name
        target.parent.mkdir(parents=True, exist_ok=True)
        if files.weight_name.endswith(".safetensors"):
            save_file(plus_face_state_dict(unet, clip_dim), str(target))
        else:
            import torch

            torch.save(nested(faceid_plus_state_dict(unet, id_dim, clip_dim)), target)
        (tmp / "complete").write_text("random identity adapter for the tiny model\n")
        try:
            os.rename(tmp, root)
        except OSError:
            if not (root / "complete").is_file():  # lost a race: fine if complete
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return weights_repo, encoder_repo
