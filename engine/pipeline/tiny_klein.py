"""The tiny offline FLUX.2 [klein]: real classes, random weights, the real repo's layout.

``SITTER_MODEL=tiny-klein`` selects it. Like :mod:`engine.pipeline.tiny` (SDXL /
SD 1.5) it is built in code with a fixed seed from the classes the real
``black-forest-labs/FLUX.2-klein-4B`` uses (``Flux2Transformer2DModel``,
``AutoencoderKLFlux2``, ``Qwen3ForCausalLM``, a ``Qwen2TokenizerFast`` made
here, ``FlowMatchEulerDiscreteScheduler``), saved with ``save_pretrained`` into
the same folders (``model_index.json``, ``transformer/``, ``vae/``,
``text_encoder/``, ``tokenizer/``, ``scheduler/``) and loaded by the production
loader. The sizes follow diffusers' own fast test for this pipeline, with a
two-block VAE so a 64 px image is 16x16 latent tokens.

The tokenizer is byte-level BPE (every UTF-8 byte is a token, plus a few
merges) with Qwen3's chat markers, so ``apply_chat_template`` and
``max_sequence_length`` behave as with the real 151k-token vocabulary, only
with more tokens per word.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_SEED = 0
TEXT_HIDDEN = 16
TEXT_LAYERS = 3
# Which hidden states the pipeline stacks (the real 4B model: 9, 18, 27 of 36).
OUT_LAYERS = (1, 2, 3)
MAX_SEQUENCE_LENGTH = 512  # as the real model: a tiny token is about one byte, so it binds sooner
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
_MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("e", "r"), ("a", "n")]
# Qwen3's template reduced to what the pipeline uses: one user turn, thinking off.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}"
    "<think>\n\n</think>\n\n{% endif %}{% endif %}"
)


def _tokenizer() -> Any:
    from transformers import Qwen2Tokenizer as Qwen2TokenizerFast  # one class in transformers 5

    from engine.pipeline.byte_bpe import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    tokens = chars + ["".join(m) for m in _MERGES] + SPECIAL
    vocab = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
    # As Qwen3's own tokenizer files: no unk token, merges as (a, b) pairs (what
    # transformers 5 reads, though its hints still say str lines and a str unk token).
    as_qwen3: dict[str, Any] = {"merges": list(_MERGES), "unk_token": None}
    tok = Qwen2TokenizerFast(
        vocab=vocab,
        **as_qwen3,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL[1:],
        model_max_length=32768,
    )
    tok.chat_template = CHAT_TEMPLATE
    return tok


def build_tiny_klein() -> Any:
    """Flux2KleinPipeline with tiny random components (deterministic)."""
    import torch
    from diffusers import (
        AutoencoderKLFlux2,
        FlowMatchEulerDiscreteScheduler,
        Flux2KleinPipeline,
        Flux2Transformer2DModel,
    )
    from transformers import Qwen3Config, Qwen3ForCausalLM

    tokenizer = _tokenizer()
    torch.manual_seed(_SEED)
    transformer = Flux2Transformer2DModel(
        patch_size=1,
        in_channels=16,  # 4 latent channels, patchified 2x2
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=TEXT_HIDDEN * len(OUT_LAYERS),
        timestep_guidance_channels=256,
        axes_dims_rope=(4, 4, 4, 4),
        guidance_embeds=False,
    )
    config = Qwen3Config(
        intermediate_size=32,
        hidden_size=TEXT_HIDDEN,
        num_hidden_layers=TEXT_LAYERS,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=8,
        vocab_size=len(tokenizer),
        max_position_embeddings=MAX_SEQUENCE_LENGTH,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(_SEED)
    text_encoder = Qwen3ForCausalLM(config)
    torch.manual_seed(_SEED)
    vae = AutoencoderKLFlux2(
        sample_size=64,
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        block_out_channels=(8, 16),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        use_quant_conv=False,
        use_post_quant_conv=False,
    )
    scheduler = FlowMatchEulerDiscreteScheduler(
        num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=True
    )
    return Flux2KleinPipeline(
        scheduler=scheduler,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        is_distilled=True,
    )


def save(folder: Path) -> None:
    """Write the tiny model into ``folder`` in the real repo's layout."""
    build_tiny_klein().save_pretrained(folder, safe_serialization=True)
