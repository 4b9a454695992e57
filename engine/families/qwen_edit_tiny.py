"""The tiny offline Qwen-Image-Edit (``SITTER_MODEL=tiny-qwen-edit``) and the processor
without torchvision both the tiny and the real model load with (engine/families/qwen_edit.py).

Built in code with a fixed seed from the real classes, the sizes of diffusers' own fast
test for ``QwenImageEditPlusPipeline``, a byte-level tokenizer with Qwen2.5-VL's vision
markers (the test downloads one; we cannot) and a five-level VAE.
"""

from __future__ import annotations

from typing import Any


# --- the processor, without torchvision -------------------------------------------------------
def image_only_processor_class() -> Any:
    from transformers import Qwen2VLProcessor
    from transformers.processing_utils import ProcessorMixin

    class ImageOnlyQwen2VLProcessor(Qwen2VLProcessor):
        """Qwen2VLProcessor without its video processor (which needs torchvision)."""

        def __init__(
            self, image_processor: Any = None, tokenizer: Any = None, chat_template: Any = None
        ) -> None:
            self.image_token = "<|image_pad|>"
            self.video_token = "<|video_pad|>"
            self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
            self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
            ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    return ImageOnlyQwen2VLProcessor


# --- the tiny offline model --------------------------------------------------------------------
_SEED = 0
TEXT_HIDDEN = 16
SPECIAL = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
_MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("e", "r"), ("a", "n")]


def _tiny_tokenizer() -> Any:
    """Byte-level BPE (every UTF-8 byte a token, a few merges) with Qwen2.5-VL's markers."""
    from transformers import Qwen2TokenizerFast  # type: ignore[attr-defined]

    from engine.pipeline.byte_bpe import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    tokens = chars + ["".join(m) for m in _MERGES] + SPECIAL
    vocab = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
    return Qwen2TokenizerFast(
        vocab=vocab,
        merges=list(_MERGES),
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL[1:],
        model_max_length=32768,
    )


def _tiny_transformer() -> Any:
    from diffusers import QwenImageTransformer2DModel

    return QwenImageTransformer2DModel(
        patch_size=2,
        in_channels=16,
        out_channels=4,
        num_layers=2,
        attention_head_dim=16,
        num_attention_heads=3,
        joint_attention_dim=TEXT_HIDDEN,
        guidance_embeds=False,
        axes_dims_rope=(8, 4, 4),
    )


def _tiny_vae() -> Any:
    """Five levels (16x down, the real one 8x): a 1 MP picture is 64x64 latents."""
    from diffusers import AutoencoderKLQwenImage

    z_dim = 4
    return AutoencoderKLQwenImage(
        base_dim=4,
        z_dim=z_dim,
        dim_mult=[1, 1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, False, False, True],
        latents_mean=[0.0] * z_dim,
        latents_std=[1.0] * z_dim,
    )


def _tiny_text_encoder(tokenizer: Any) -> Any:
    """Qwen2.5-VL with diffusers' test sizes, its vision markers at our vocabulary's ids."""
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL}
    config = Qwen2_5_VLConfig(
        text_config={
            "hidden_size": TEXT_HIDDEN,
            "intermediate_size": 16,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 2,
            "rope_scaling": {"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"},
            "rope_theta": 1000000.0,
            "vocab_size": len(tokenizer),
            "max_position_embeddings": 4096,
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
        },
        vision_config={
            "depth": 2,
            "hidden_size": 16,
            "intermediate_size": 16,
            "num_heads": 2,
            "out_hidden_size": TEXT_HIDDEN,
        },
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
    )
    return Qwen2_5_VLForConditionalGeneration(config)


def build_tiny_qwen_edit() -> Any:
    """QwenImageEditPlusPipeline with tiny random components (deterministic)."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, QwenImageEditPlusPipeline
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil,
    )

    tokenizer = _tiny_tokenizer()
    torch.manual_seed(_SEED)
    transformer = _tiny_transformer()
    torch.manual_seed(_SEED)
    vae = _tiny_vae()
    torch.manual_seed(_SEED)
    text_encoder = _tiny_text_encoder(tokenizer)
    # The text encoder's view of a picture: at most 64 patches of 28 px (the real: 384 px).
    images = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=28 * 28 * 64)
    processor = image_only_processor_class()(image_processor=images, tokenizer=tokenizer)
    return QwenImageEditPlusPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        processor=processor,
        transformer=transformer,
    )
