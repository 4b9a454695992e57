"""SDXL's and SD 1.5's tiny offline builder (each family builds its own tiny model;
``engine.families.ensure_tiny_model`` keeps them in the models folder).

The SDXL / SD 1.5 one is a tiny, randomly initialised pipeline.
It is built in code from the real diffusers/transformers classes with a fixed
seed, saved once under the models folder with ``save_pretrained`` and then
loaded by the same loader as a downloaded model (``loader.load_pipeline``), so
tests exercise the production path; only the configuration differs. Output is
noise-like (the weights are random), 64x64 by default, and four images take
about a second on a CPU.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.pipeline.byte_bpe import bytes_to_unicode as _bytes_to_unicode

if TYPE_CHECKING:
    from diffusers import AutoencoderKL
    from transformers import CLIPTextConfig, CLIPTokenizer

TINY_VERSION = 1  # bump when the architecture below changes (new cache folder)
_SEED = 0
_TEXT_HIDDEN = 32


# A few merges so the BPE has real work to do; transformers 5 wants every line a pair.
_MERGES = [("t", "h"), ("th", "e</w>"), ("a", "n"), ("o", "r"), ("e", "r</w>")]


def tiny_vocab() -> dict[str, int]:
    """A byte-level CLIP vocabulary: every byte, every byte at a word end, a few merges."""
    chars = list(_bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["".join(m) for m in _MERGES]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {tok: i for i, tok in enumerate(dict.fromkeys(tokens))}


def _tokenizer() -> CLIPTokenizer:  # save_pretrained writes its vocab.json and merges.txt
    from transformers import CLIPTokenizer

    # transformers 5 takes merges as (a, b) pairs; its hint still says str lines
    merges: Any = list(_MERGES)
    return CLIPTokenizer(vocab=tiny_vocab(), merges=merges, model_max_length=77)


def _text_config(vocab_size: int, projection_dim: int = 32) -> CLIPTextConfig:
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        bos_token_id=vocab_size - 2,
        eos_token_id=vocab_size - 1,
        pad_token_id=vocab_size - 1,
        hidden_size=_TEXT_HIDDEN,
        intermediate_size=37,
        layer_norm_eps=1e-05,
        num_attention_heads=4,
        num_hidden_layers=2,
        vocab_size=vocab_size,
        projection_dim=projection_dim,
        hidden_act="gelu",
    )


def _vae() -> AutoencoderKL:
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(32, 64),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        sample_size=64,
    )


def _scheduler() -> Any:
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        timestep_spacing="leading",
        steps_offset=1,
    )


def _unet(**kwargs: Any) -> Any:
    """A two-level UNet at 8x8 latents; the family's cross-attention keywords on top."""
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        norm_num_groups=32,
        **kwargs,
    )


def tiny_sd15() -> Any:
    from diffusers import StableDiffusionPipeline
    from transformers import CLIPTextModel

    tokenizer = _tokenizer()
    torch_seed()
    unet = _unet(cross_attention_dim=_TEXT_HIDDEN, attention_head_dim=8)
    return StableDiffusionPipeline(
        vae=_vae(),
        text_encoder=CLIPTextModel(_text_config(len(tokenizer))),
        tokenizer=tokenizer,
        unet=unet,
        scheduler=_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        image_encoder=None,
        requires_safety_checker=False,
    )


def tiny_sdxl() -> Any:
    """Two text encoders whose hidden states are concatenated (32 + 32), pooled
    projection (32) plus six 8-dim time ids into the added embedding."""
    from diffusers import StableDiffusionXLPipeline
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    tokenizer = _tokenizer()
    vocab_size = len(tokenizer)
    torch_seed()
    unet = _unet(
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 1),
        projection_class_embeddings_input_dim=6 * 8 + 32,
        cross_attention_dim=2 * _TEXT_HIDDEN,
    )
    return StableDiffusionXLPipeline(
        vae=_vae(),
        text_encoder=CLIPTextModel(_text_config(vocab_size)),
        text_encoder_2=CLIPTextModelWithProjection(_text_config(vocab_size, projection_dim=32)),
        tokenizer=tokenizer,
        tokenizer_2=_tokenizer(),
        unet=unet,
        scheduler=_scheduler(),
        image_encoder=None,
        feature_extractor=None,
        force_zeros_for_empty_prompt=True,
    )


def torch_seed() -> None:
    import torch

    torch.manual_seed(_SEED)
