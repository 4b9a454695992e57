"""Two people through one IP-Adapter Plus Face: one face mask per person.

diffusers' masked IP-Adapter attention (``IPAdapterMaskProcessor``; the attention
processor's ``ip_adapter_masks``) attends to each input image on its own and adds the
result only inside that image's mask. Each person's crops (the most typical first, as
engine/pipeline/identity_input.py chooses them) are input images with that person's
mask: the first person's span of the width, then the second's (the family's, by the
placement: engine/families/together.py). Each image's scale is the order's identity scale divided
by the person's crop count, so a person's crops together weigh what one person's do
in a one-person order, and the two people never share a region's identity.

FaceID Plus v2 (one embedding and one crop per render, kept on the projection layer) is
not wired for two people: such an order fails as ``not_available``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PIL import Image, ImageDraw

from engine.pipeline.adapter import FACEID_PLUSV2
from sitter.contract import FailureCode

# The first and the second person's spans of the width (left, right as shares).
Spans = tuple[tuple[float, float], tuple[float, float]]


class PairNotSupported(ValueError):
    """This worker's identity adapter cannot paint two people."""

    failure_code = FailureCode.NOT_AVAILABLE  # the job's answer (engine/job_errors.py)


def person_masks(width: int, height: int, spans: Spans) -> tuple[Image.Image, Image.Image]:
    """The first and the second person's masks ("L", white where their identity paints)."""
    masks = []
    for left, right in spans:
        mask = Image.new("L", (width, height), 0)
        ImageDraw.Draw(mask).rectangle(
            (round(left * width), 0, round(right * width) - 1, height - 1), fill=255
        )
        masks.append(mask)
    return masks[0], masks[1]


def pair_identity_kwargs(
    loaded: Any,  # engine.pipeline.loaded.LoadedPipeline (not imported: no import cycle)
    crops: Sequence[Image.Image],
    partner_crops: Sequence[Image.Image],
    spans: Spans,
    *,
    width: int,
    height: int,
    scale: float,
    cfg: bool,
) -> dict[str, Any]:
    """The pipeline-call arguments for two people (call under inference_mode): every crop
    of both as one adapter's images, their masks, and per-image scales set on the UNet
    (:func:`restore_scale` after the call)."""
    from diffusers.image_processor import IPAdapterMaskProcessor

    if loaded.adapter.kind == FACEID_PLUSV2:
        raise PairNotSupported(
            "portraits of two people need the IP-Adapter Plus Face identity adapter "
            "(SITTER_IDENTITY_ADAPTER); FaceID Plus v2 takes one person per render"
        )
    if not crops or not partner_crops:
        raise PairNotSupported("a portrait of two people needs both people's face crops")
    pipe, device, dtype = loaded.pipe, loaded.device, loaded.opts.dtype
    images = [*crops, *partner_crops]
    (image_embeds,) = pipe.prepare_ip_adapter_image_embeds(
        ip_adapter_image=[images],
        ip_adapter_image_embeds=None,
        device=device,
        num_images_per_prompt=1,
        do_classifier_free_guidance=cfg,
    )
    first, second = person_masks(width, height, spans)
    each = [first] * len(crops) + [second] * len(partner_crops)
    masks = IPAdapterMaskProcessor().preprocess(each, height=height, width=width)
    masks = masks.reshape(1, masks.shape[0], masks.shape[2], masks.shape[3])  # one adapter
    scales = [scale / len(crops)] * len(crops) + [scale / len(partner_crops)] * len(partner_crops)
    _set_image_scales(pipe, scales)
    return {
        "ip_adapter_image_embeds": [image_embeds.to(dtype)],
        "cross_attention_kwargs": {"ip_adapter_masks": [masks.to(device=device, dtype=dtype)]},
    }


def _set_image_scales(pipe: Any, scales: list[float]) -> None:
    """One scale per input image of the (only) IP-Adapter, in every attention processor
    that has one (diffusers reads a list there as per-image scales under masks)."""
    for proc in pipe.unet.attn_processors.values():
        if isinstance(getattr(proc, "scale", None), list) and hasattr(proc, "to_k_ip"):
            proc.scale[0] = list(scales)


def restore_scale(pipe: Any, scale: float) -> None:
    """Back to one scale for the adapter, as every one-person render sets it."""
    pipe.set_ip_adapter_scale(scale)
