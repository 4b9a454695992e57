"""A person's photos as training pictures with captions made from what the analysis knows.

Each accepted photo gives two pictures: the photo itself (centre-cropped to a square)
and, when the analysis sent one, its aligned face crop (a close-up). Captions say what
the photo analysis measured (engine/quality.py: face size in the frame, head turn,
light), in the words orders use for the person ("the person"), so the LoRA binds the
person to the phrase every later order's prompt contains.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

from sitter import contract as c

SUBJECT = "the person"


@dataclass(frozen=True)
class Picture:
    image: Image.Image
    caption: str


def _framing(q: dict[str, float], crop: bool) -> str:
    if crop:
        return "a close-up photo of the face of " + SUBJECT
    share = q.get("face_share", 0.0)
    if share >= 0.35:
        return "a close-up portrait photo of " + SUBJECT
    if share >= 0.15:
        return "a head and shoulders photo of " + SUBJECT
    return "a photo of " + SUBJECT


def _turn(q: dict[str, float]) -> str:
    yaw = q.get("yaw")
    if yaw is None:
        return ""
    if abs(yaw) < 12:
        return "facing the camera"
    return "head turned to the " + ("left" if yaw < 0 else "right")


def _light(q: dict[str, float]) -> str:
    b = q.get("brightness")
    if b is None:
        return ""
    if b < 80:
        return "in dim light"
    if b > 175:
        return "in bright light"
    return "in even light"


def caption(quality: dict[str, float], crop: bool = False) -> str:
    """The caption of one picture from its photo's analysis figures."""
    parts = [_framing(quality, crop), _turn(quality), _light(quality)]
    return ", ".join(p for p in parts if p)


def _decode(data: bytes, side: int) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        rgb = ImageOps.exif_transpose(im).convert("RGB")
    return ImageOps.fit(rgb, (side, side), Image.Resampling.LANCZOS)


def pictures(photos: list[c.TrainPhoto], side: int) -> list[Picture]:
    """Every photo and aligned crop at ``side`` px with its caption; unreadable ones are
    skipped (the bot sends accepted photos only), none at all is a ValueError."""
    out = []
    for photo in photos:
        for data, crop in ((photo.image, False), (photo.face_crop, True)):
            if not data:
                continue
            try:
                out.append(Picture(_decode(data, side), caption(photo.quality, crop)))
            except Exception:
                continue
    if not out:
        raise ValueError("none of the photos could be read")
    return out
