"""Tiny randomly initialised pet models, built in code from the real classes and saved
as model folders, for tests and benchmarks' --short modes (the production loader,
engine.pets.models.load_pet_models, reads them like fetched ones).

Random weights find nothing meaningful. ``favour`` makes the detector "find" one animal of
that class in any picture: its class heads' bias scores every query as that class, and
its box heads give one large box from the first anchor's corner (about the picture's
top-left half). That drives the plumbing honestly; it says nothing about a real photo.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CARD = "---\nlicense: apache-2.0\n---\nSitter's own tiny model: random weights, tests only.\n"
TINY_LABELS = {0: "person", 1: "cat", 2: "dog"}


def build_tiny_detector(folder: Path, favour: str | None = None, seed: int = 0) -> Path:
    """A tiny RTDetrForObjectDetection (person, cat, dog) and its PIL image processor."""
    import torch
    from transformers import RTDetrConfig, RTDetrForObjectDetection, RTDetrResNetConfig
    from transformers.models.rt_detr.image_processing_pil_rt_detr import (
        RTDetrImageProcessorPil,
    )

    torch.manual_seed(seed)
    stages: dict[str, Any] = {"out_features": ["stage2", "stage3", "stage4"]}  # a kwarg
    backbone = RTDetrResNetConfig(
        embedding_size=8,
        hidden_sizes=[8, 16, 16, 16],
        depths=[1, 1, 1, 1],
        layer_type="basic",
        **stages,
    )
    config = RTDetrConfig(
        backbone_config=backbone,
        d_model=16,
        encoder_hidden_dim=16,
        encoder_in_channels=[16, 16, 16],
        encoder_ffn_dim=32,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        decoder_ffn_dim=32,
        decoder_layers=1,
        decoder_in_channels=[16, 16, 16],
        decoder_n_points=2,
        num_feature_levels=3,
        num_queries=1 if favour else 10,
        id2label=TINY_LABELS,
        label2id={v: k for k, v in TINY_LABELS.items()},
    )
    model = RTDetrForObjectDetection(config).eval()
    if favour is not None:
        wanted = {v: k for k, v in TINY_LABELS.items()}[favour]
        heads = [model.model.enc_score_head, *model.model.decoder.class_embed]
        with torch.no_grad():
            for head in heads:
                head.weight.zero_()
                head.bias.fill_(-8.0)
                head.bias[wanted] = 8.0
            # ... and one large box: the first anchor's centre, nearly the image's size
            # (the anchors are the feature grid's; the top-left one wins a tie).
            for mlp in (model.model.enc_bbox_head, model.model.decoder.bbox_embed[-1]):
                last = mlp.layers[-1]
                last.weight.zero_()
                last.bias.zero_()
            model.model.decoder.bbox_embed[-1].layers[-1].bias[2:] = 6.0
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    RTDetrImageProcessorPil(size={"height": 128, "width": 128}).save_pretrained(folder)
    (folder / "README.md").write_text(CARD, encoding="utf-8")
    return folder


def build_tiny_embedder(folder: Path, seed: int = 0) -> Path:
    """A tiny Dinov2Model and its PIL image processor (56 px crops, 14 px patches)."""
    import torch
    from transformers import Dinov2Config, Dinov2Model
    from transformers.models.bit.image_processing_pil_bit import BitImageProcessorPil

    torch.manual_seed(seed)
    config = Dinov2Config(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        mlp_ratio=2,
        patch_size=14,
        image_size=56,
    )
    Dinov2Model(config).eval().save_pretrained(folder)
    BitImageProcessorPil(
        size={"shortest_edge": 64},
        crop_size={"height": 56, "width": 56},
        do_center_crop=True,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
    ).save_pretrained(folder)
    (folder / "README.md").write_text(CARD, encoding="utf-8")
    return folder
