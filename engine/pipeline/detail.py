"""The face detail pass: re-render the face of a variation up close, keep it if it scores better.

What ADetailer does for Stable Diffusion users. A face that fills a small part
of the frame (half body, three-quarter) gets few latent pixels and comes out
soft or melted; the likeness scorer then sinks it. For each variation:

1. find the largest face with the worker's face backend;
2. cut a square around it with a margin (``CROP_MARGIN`` face sizes each side);
3. render that crop again at the model's native resolution at
   ``SITTER_FACE_DETAIL_STRENGTH`` (default 0.35) with the order's prompt and
   the SAME identity conditioning, through a pipeline made from the loaded
   components with ``from_pipe`` (no second copy of the weights): SDXL / SD 1.5
   img2img with the identity adapter's inputs, FLUX.2 [klein] a reference edit of
   the crop beside the order's reference photos (engine/pipeline/detail_render.py);
4. scale it back and blend it in with a feathered elliptical mask around the
   face: pixels where the mask is 0 are untouched, byte for byte;
5. judge it again with the order's likeness gate and keep whichever version
   ranks better by the gate (accepted first, then a face that is not a copy,
   then the higher score; ties keep the original).

``SITTER_FACE_DETAIL``: ``auto`` runs it when the face is small in the frame
or the likeness is just below the gate, ``always`` whenever a face is found,
``off`` never. What ran and what it changed travels with the result
(:class:`sitter.contract.FaceDetail`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from engine.gate import rank
from engine.pipeline.detail_render import render_crops
from engine.pipeline.personal import PersonalLora, on_gpu
from sitter.contract import FaceDetail

if TYPE_CHECKING:
    from engine.faces.base import FaceAnalyzer
    from engine.likeness import Likeness
    from engine.parts import Models
    from engine.pipeline.loaded import LoadedPipeline, Resolved

MODES = ("auto", "always", "off")
# "Small in the frame": the face box's longer side under this share of the image's
# longer side. A head-and-shoulders portrait puts dlib's box (brows to chin) at about
# 0.3 of the frame; half body about 0.15, three-quarter about 0.1. At SDXL's 1024 px
# 0.2 is a face of ~200 px, ~25 latent pixels across: where faces start to soften.
SMALL_FACE_FRACTION = 0.2
# "Just below the gate": a likeness within this of the person's bar, on dlib's 0..1
# scale. dlib: the same-person threshold is 0.46, same-person pairs score 0.49-0.78 and
# different people up to 0.42 (engine/faces/dlib_backend.py), so 0.06 reaches into the
# gap without taking in most strangers. Other backends get it scaled by their room
# above their own threshold, as engine.gate.calibration_for scales the gate.
NEAR_GATE_BAND = 0.06
_DLIB_SAME_PERSON = 0.46
CROP_MARGIN = 0.75  # context around the face, in face sizes on each side
MASK_GROW = 0.3  # the blended ellipse reaches this far past the face box (face sizes)
FEATHER = 0.15  # blur of the mask's edge, in face sizes


Box = tuple[int, int, int, int]  # left, top, right, bottom in image pixels


@dataclass(frozen=True)
class Crop:
    """Where the face is cut out: a square ``box`` in image pixels, and the face box."""

    box: Box
    face: Box

    @property
    def side(self) -> int:
        return self.box[2] - self.box[0]


@dataclass
class Detailed:
    """One variation after the pass: the kept image and likeness, and what happened."""

    image: Image.Image
    likeness: Likeness
    report: FaceDetail | None  # None: the pass did not run
    detailed: Image.Image | None = None  # the blended version, kept or not
    mask: Image.Image | None = None  # "L", image size: where the detailed face was blended


def _largest_face(analyzer: FaceAnalyzer, image: Image.Image) -> Box | None:
    faces = analyzer.detect(image.convert("RGB"))
    return faces[0].box if faces else None


def near_gate_band(same_person_threshold: float) -> float:
    """:data:`NEAR_GATE_BAND` on a backend's own similarity scale."""
    room = max(1e-6, 1.0 - same_person_threshold) / (1.0 - _DLIB_SAME_PERSON)
    return NEAR_GATE_BAND * room


def why_detail(
    mode: str,
    box: Box | None,
    image: Image.Image,
    likeness: Likeness,
    gate: float,
    band: float = NEAR_GATE_BAND,
) -> str | None:
    """The reason to run the pass on this variation, or None to leave it as it is."""
    if mode == "off" or box is None:
        return None
    if mode == "always":
        return "always"
    if max(box[2] - box[0], box[3] - box[1]) < SMALL_FACE_FRACTION * max(image.size):
        return "small_face"
    if likeness.score is not None and gate - band <= likeness.score < gate:
        return "near_gate"
    return None


def face_crop_box(face_box: Box, size: tuple[int, int]) -> Crop:
    """A square around the face with ``CROP_MARGIN`` on each side, moved inside the image."""
    left, top, right, bottom = face_box
    width, height = size
    face_side = max(right - left, bottom - top, 1)
    side = min(round(face_side * (1 + 2 * CROP_MARGIN)), width, height)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    x0 = int(min(max(round(cx - side / 2), 0), width - side))
    y0 = int(min(max(round(cy - side / 2), 0), height - side))
    return Crop(box=(x0, y0, x0 + side, y0 + side), face=face_box)


def feather_mask(crop: Crop, size: tuple[int, int] | None = None) -> Image.Image:
    """The blend mask over the crop ("L", crop size): an ellipse around the face, soft edge.

    A face too large for its margin reaches the crop's edge; where that edge lies
    inside the image (``size``), the mask fades to 0 over the feather width, so no
    seam is left at the crop's border.
    """
    side = crop.side
    left, top, right, bottom = crop.face
    face_side = max(right - left, bottom - top, 1)
    grow = MASK_GROW * face_side
    x0, y0, x1, y1 = crop.box
    mask = Image.new("L", (side, side), 0)
    ellipse = (left - x0 - grow, top - y0 - grow, right - x0 + grow, bottom - y0 + grow)
    ImageDraw.Draw(mask).ellipse(ellipse, fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(FEATHER * face_side / 2))
    if size is None:
        return mask
    width, height = size
    ramp = np.minimum(np.arange(side, dtype=np.float32) / max(FEATHER * face_side, 1.0), 1.0)
    fade_x = np.ones(side, np.float32)
    fade_y = np.ones(side, np.float32)
    if x0 > 0:
        fade_x = np.minimum(fade_x, ramp)
    if x1 < width:
        fade_x = np.minimum(fade_x, ramp[::-1])
    if y0 > 0:
        fade_y = np.minimum(fade_y, ramp)
    if y1 < height:
        fade_y = np.minimum(fade_y, ramp[::-1])
    faded = np.asarray(mask, np.float32) * fade_y[:, None] * fade_x[None, :]
    return Image.fromarray(np.floor(faded).astype(np.uint8))


def paste_back(
    image: Image.Image, rendered: Image.Image, crop: Crop
) -> tuple[Image.Image, Image.Image]:
    """``rendered`` (the crop, any size) blended into a copy of ``image``; and the full mask.

    Where the mask is 0 the result IS the original pixel, where it is 255 the new one.
    """
    mask = feather_mask(crop, image.size)
    patch = rendered.convert("RGB").resize((crop.side, crop.side), Image.Resampling.LANCZOS)
    base = np.asarray(image.convert("RGB"), dtype=np.int32).copy()
    x0, y0, x1, y1 = crop.box
    m = np.asarray(mask, dtype=np.int32)[..., None]
    old = base[y0:y1, x0:x1]
    new = np.asarray(patch, dtype=np.int32)
    base[y0:y1, x0:x1] = old + np.rint((new - old) * (m / 255.0)).astype(np.int32)
    full = Image.new("L", image.size, 0)
    full.paste(mask, crop.box[:2])
    return Image.fromarray(base.clip(0, 255).astype(np.uint8)), full


def _faces_to_detail(
    analyzer: FaceAnalyzer, scored: Sequence[tuple[Image.Image, Likeness]], mode: str
) -> list[tuple[int, str, Crop]]:
    """(index, reason, crop) of each variation whose face the pass renders again."""
    band = near_gate_band(analyzer.same_person_threshold)
    todo: list[tuple[int, str, Crop]] = []
    for i, (image, likeness) in enumerate(scored):
        if not likeness.face_found:
            continue  # nothing to find again: the regeneration loop handles it
        box = likeness.box or _largest_face(analyzer, image)  # the scorer's face, when it says
        gate = likeness.threshold or analyzer.same_person_threshold  # this person's bar
        reason = why_detail(mode, box, image, likeness, gate, band)
        if reason is not None and box is not None:
            todo.append((i, reason, face_crop_box(box, image.size)))
    return todo


def detail_pass(
    runtime: Models,
    loaded: LoadedPipeline,
    scored: Sequence[tuple[Image.Image, Likeness]],
    seeds: Sequence[int],
    *,
    judge: Callable[[Image.Image], Likeness],
    prompt: str,
    negative_prompt: str,
    params: Resolved,
    refs: np.ndarray,
    id_crops: Sequence[Image.Image],
    cancel: threading.Event | None = None,
    ref_images: Sequence[Image.Image] = (),
    ref_latents: Any = None,
    lora: PersonalLora | None = None,
) -> list[Detailed]:
    """The pass over one attempt's variations: the image to keep for each, and why.

    ``scored``: each image with the verdict of ``judge`` (the order's likeness gate,
    :meth:`engine.gate.PersonGate.judge`), which also judges the detailed version;
    the better one by the gate's own :func:`engine.gate.rank` is kept.
    """
    settings = runtime.settings
    mode = settings.face_detail
    out = [Detailed(image, likeness, None) for image, likeness in scored]
    if mode == "off":
        return out
    started = time.perf_counter()
    todo = _faces_to_detail(runtime.require_analyzer(), scored, mode)
    if not todo:
        return out
    strength = settings.face_detail_strength
    with on_gpu(runtime, lora):  # the order's personal model on, if it has one
        rendered = render_crops(
            loaded,
            [scored[i][0].crop(crop.box) for i, _, crop in todo],
            [seeds[i] for i, _, _ in todo],
            prompt=prompt,
            negative_prompt=negative_prompt,
            params=params,
            strength=strength,
            refs=refs,
            id_crops=id_crops,
            cancel=cancel,
            ref_images=ref_images,
            ref_latents=ref_latents,
        )
    each = (time.perf_counter() - started) / len(todo)
    for (i, reason, crop), patch in zip(todo, rendered, strict=True):
        image, before = scored[i]
        t0 = time.perf_counter()
        candidate, mask = paste_back(image, patch, crop)
        after = judge(candidate)
        kept = rank(after) > rank(before)
        report = FaceDetail(
            reason=reason,
            strength=strength,
            crop=list(crop.box),
            likeness_before=before.score,
            likeness_after=after.score,
            kept=kept,
            seconds=round(each + time.perf_counter() - t0, 3),
        )
        out[i] = Detailed(
            candidate if kept else image, after if kept else before, report, candidate, mask
        )
    return out
