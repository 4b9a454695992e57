"""`sitter models fetch` takes a diffusers repo's component folders, not its extra checkpoints."""

from __future__ import annotations

from huggingface_hub.utils import filter_repo_objects

from engine.models import HUB_ALLOW, HUB_IGNORE

# The layout of stabilityai/stable-diffusion-xl-base-1.0 (abridged).
SDXL_FILES = [
    "model_index.json",
    "README.md",
    "sd_xl_base_1.0.safetensors",
    "sd_xl_base_1.0_0.9vae.safetensors",
    "sd_xl_offset_example-lora_1.0.safetensors",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "text_encoder/model.fp16.safetensors",
    "text_encoder/openvino_model.bin",
    "text_encoder_2/model.safetensors",
    "tokenizer/merges.txt",
    "tokenizer/vocab.json",
    "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors",
    "unet/diffusion_pytorch_model.fp16.safetensors",
    "unet/model.onnx",
    "vae/diffusion_pytorch_model.safetensors",
    "vae_1_0/diffusion_pytorch_model.fp16.safetensors",
]


def test_fetch_takes_only_what_the_loader_reads() -> None:
    taken = set(
        filter_repo_objects(SDXL_FILES, allow_patterns=HUB_ALLOW, ignore_patterns=HUB_IGNORE)
    )
    assert taken == {
        "model_index.json",
        "scheduler/scheduler_config.json",
        "text_encoder/config.json",
        "text_encoder/model.safetensors",
        "text_encoder_2/model.safetensors",
        "tokenizer/merges.txt",
        "tokenizer/vocab.json",
        "unet/config.json",
        "unet/diffusion_pytorch_model.safetensors",
        "vae/diffusion_pytorch_model.safetensors",
    }
