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
        "README.md",  # the model card: its licence is read for models not in the registry
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


# black-forest-labs/FLUX.2-klein-4B: the diffusers folders (file names as diffusers and
# transformers save them; the Qwen3 text encoder sharded) beside the single-file
# checkpoint at the root that ComfyUI-style tools use and diffusers never reads.
# Inferred from the pipeline's loader and other projects' download scripts: the Hub
# could not be read from here.
KLEIN_FILES = [
    ".gitattributes",
    "LICENSE.md",
    "README.md",
    "flux-2-klein-4b.safetensors",
    "model_index.json",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/generation_config.json",
    "text_encoder/model-00001-of-00002.safetensors",
    "text_encoder/model-00002-of-00002.safetensors",
    "text_encoder/model.safetensors.index.json",
    "tokenizer/chat_template.jinja",
    "tokenizer/tokenizer.json",
    "tokenizer/tokenizer_config.json",
    "transformer/config.json",
    "transformer/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
]


def test_fetch_takes_kleins_folders_not_its_single_file_checkpoint() -> None:
    taken = set(
        filter_repo_objects(KLEIN_FILES, allow_patterns=HUB_ALLOW, ignore_patterns=HUB_IGNORE)
    )
    assert taken == set(KLEIN_FILES) - {
        ".gitattributes",
        "LICENSE.md",
        "flux-2-klein-4b.safetensors",
    }


def test_fetch_patterns_take_every_file_of_the_tiny_klein_layout(tmp_path) -> None:
    """The tiny model is saved by diffusers exactly as the real repo's folders are."""
    from engine import families

    folder = families.ensure_tiny_model("tiny-klein", tmp_path)
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert {"model_index.json", "transformer/config.json", "tokenizer/tokenizer.json"} <= set(files)
    taken = set(filter_repo_objects(files, allow_patterns=HUB_ALLOW, ignore_patterns=HUB_IGNORE))
    assert taken == set(files)
