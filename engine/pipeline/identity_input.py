"""What the identity adapter is fed: the references' face crops and embeddings.

The analysis stores an aligned face crop with every accepted photo
(``Reference.face_crop``). Both adapters see crops through the CLIP image
encoder; FaceID Plus v2 also takes the normalised centroid of the embeddings.

- Plus Face gets ``MAX_CROPS`` crops, the most typical first (nearest the mean
  embedding, so one odd photo is the last to count), their 16 tokens each
  concatenated as diffusers does for several images. Fewer references are
  cycled up to ``MAX_CROPS``: repeating every crop equally leaves the attention
  unchanged, and the UNet always sees the same token count (one compiled shape).
- FaceID Plus v2 was trained on one embedding plus one crop: the centroid and
  the most typical crop, with the v2 shortcut on (diffusers' documented recipe:
  the crop's CLIP features go to the projection layer's ``clip_embeds``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from engine.likeness import IdentityMismatch
from engine.pipeline.adapter import FACEID_PLUSV2
from sitter.contract import Reference

MAX_CROPS = 4
CROP_SIDE = 256  # what engine.analysis stores; any size works (CLIP resizes to 224)


class MissingFaceCrops(IdentityMismatch):
    """No reference carries a usable face crop, and the adapter needs one."""


def choose_crops(references: Sequence[Reference], refs: np.ndarray) -> list[Image.Image]:
    """The crops the adapter sees: the most typical first, exactly ``MAX_CROPS`` of them."""
    centre = refs.mean(axis=0)
    ranked = sorted(
        (i for i, r in enumerate(references) if r.face_crop),
        key=lambda i: float(np.linalg.norm(refs[i] - centre)),
    )
    crops = []
    for i in ranked[:MAX_CROPS]:
        try:
            with Image.open(io.BytesIO(references[i].face_crop or b"")) as im:
                im.load()
                crops.append(im.convert("RGB"))
        except Exception:
            raise MissingFaceCrops(
                f"reference {i}'s face crop is not a readable image: analyse the photo again"
            ) from None
    if not crops:
        raise MissingFaceCrops(
            "the references carry no face crops, and the identity adapter is fed with them: "
            "analyse the photos again with this version (each accepted photo stores one)"
        )
    return [crops[k % len(crops)] for k in range(MAX_CROPS)]


def placeholder_crops() -> list[Image.Image]:
    """Neutral grey crops of the production shape, for warm-up renders only."""
    return [Image.new("RGB", (CROP_SIDE, CROP_SIDE), (128, 128, 128))] * MAX_CROPS


def centroid_embeds(refs: np.ndarray, *, cfg: bool, dtype: Any, device: str) -> Any:
    """FaceID's ``ip_adapter_image_embeds`` entry: the normalised centroid of the
    references, shape (1, 1, d), with a zero negative in front under CFG."""
    import torch

    centroid = refs.mean(axis=0)
    centroid = centroid / max(float(np.linalg.norm(centroid)), 1e-8)
    pos = torch.from_numpy(centroid.astype(np.float32)).reshape(1, 1, -1)
    embeds = torch.cat([torch.zeros_like(pos), pos]) if cfg else pos
    return embeds.to(device=device, dtype=dtype)


def identity_kwargs(
    loaded: Any,  # engine.pipeline.loader.LoadedPipeline (not imported: no import cycle)
    refs: np.ndarray,
    crops: Sequence[Image.Image],
    *,
    cfg: bool,
    batch: int,
) -> dict[str, Any]:
    """The pipeline-call arguments that carry the identity (call under inference_mode).

    ``batch`` is the number of images of this call (FaceID Plus needs its CLIP
    features repeated to the UNet's batch; Plus Face's are repeated by the pipeline).
    """
    if not crops:
        raise MissingFaceCrops("no face crops given to the identity adapter")
    pipe, device, dtype = loaded.pipe, loaded.device, loaded.opts.dtype
    if loaded.adapter.kind != FACEID_PLUSV2:
        (image_embeds,) = pipe.prepare_ip_adapter_image_embeds(
            ip_adapter_image=[list(crops)],
            ip_adapter_image_embeds=None,
            device=device,
            num_images_per_prompt=1,
            do_classifier_free_guidance=cfg,
        )
        return {"ip_adapter_image_embeds": [image_embeds.to(dtype)]}
    (clip_embeds,) = pipe.prepare_ip_adapter_image_embeds(
        ip_adapter_image=[[crops[0]]],
        ip_adapter_image_embeds=None,
        device=device,
        num_images_per_prompt=batch,
        do_classifier_free_guidance=cfg,
    )
    projection = pipe.unet.encoder_hid_proj.image_projection_layers[0]
    projection.clip_embeds = clip_embeds.to(dtype)
    projection.shortcut = True  # v2: the embedding's tokens plus the refined ones
    return {"ip_adapter_image_embeds": [centroid_embeds(refs, cfg=cfg, dtype=dtype, device=device)]}


def clear_identity(loaded: Any) -> None:
    """After a render: FaceID Plus v2 keeps the person's crop features on the shared
    pipeline's projection layer (diffusers reads them from there); drop them, so no
    one's face features outlive their order in the worker."""
    if loaded.adapter.kind != FACEID_PLUSV2:
        return
    projection = loaded.pipe.unet.encoder_hid_proj.image_projection_layers[0]
    projection.clip_embeds = None
