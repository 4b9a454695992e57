"""The pet models: an animal detector and an image embedder, both real transformers classes.

- Detector: RT-DETR (``RTDetrForObjectDetection``, default ``PekingU/rtdetr_r18vd``,
  Apache-2.0, 80.9 MB, COCO AP 46.5). Chosen over DETR because DETR's ResNet backbone
  comes from timm or torchvision (neither may be installed here: NOTES.md), and over
  YOLOS because RT-DETR is far more accurate at a similar size; transformers' RT-DETR has
  its own ResNet and a PIL image processor (``backend="pil"``). Any transformers detector
  whose ``id2label`` names ``cat``, ``dog`` and ``person`` loads the same way.
- Embedder: DINOv2 (``Dinov2Model``, default ``facebook/dinov2-small``, Apache-2.0):
  the L2-normalised pooled (CLS) output of the animal's crop.

Both load from local folders only (``local_files_only``): a Hub repo from
``SITTER_MODEL_CACHE`` where ``sitter models fetch`` put it, or a folder named by
``SITTER_PET_DETECTOR`` / ``SITTER_PET_EMBEDDER``. They run on ``SITTER_DEVICE`` (the
GPU when there is one: the gate finds the animal again in every output), else the CPU.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from sitter.config import Settings

DETECT_THRESHOLD = 0.5  # RT-DETR's sigmoid class score; its model card's example uses 0.5
SAME_BOX_IOU = 0.7  # two boxes of one class this close are one animal
LABELS = ("cat", "dog", "person")


@dataclass(frozen=True)
class Detection:
    label: str  # "cat", "dog" or "person"
    score: float
    box: tuple[int, int, int, int]  # left, top, right, bottom in image pixels

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, right - left) * max(0, bottom - top)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def merge_same(found: list[Detection]) -> list[Detection]:
    """One detection per animal: of boxes of one label overlapping by SAME_BOX_IOU or more,
    the highest-scoring is kept (RT-DETR has no NMS; it rarely doubles, but it can)."""
    kept: list[Detection] = []
    for d in sorted(found, key=lambda d: -d.score):
        if all(k.label != d.label or iou(k.box, d.box) < SAME_BOX_IOU for k in kept):
            kept.append(d)
    return kept


@dataclass
class PetModels:
    """The loaded detector and embedder; thread-safe (one lock around the models)."""

    detector: Any
    detector_processor: Any
    embedder: Any
    embedder_processor: Any
    detector_name: str
    embedder_name: str
    threshold: float = DETECT_THRESHOLD
    device: str = "cpu"
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def backend(self) -> str:
        """What every pet embedding is stored with (never compared with another's)."""
        return f"dinov2:{self.embedder_name}"

    def detect(self, image: Image.Image) -> list[Detection]:
        """Cats, dogs and people at or above the threshold, one box per animal."""
        import torch

        image = image.convert("RGB")
        id2label = {int(k): str(v).lower() for k, v in self.detector.config.id2label.items()}
        with self.lock, torch.inference_mode():
            inputs = self.detector_processor(images=image, return_tensors="pt").to(self.device)
            outputs = self.detector(**inputs)
            found = self.detector_processor.post_process_object_detection(
                outputs, threshold=self.threshold, target_sizes=[(image.height, image.width)]
            )[0]
        out = []
        for score, label, box in zip(
            found["scores"].tolist(), found["labels"].tolist(), found["boxes"].tolist(), strict=True
        ):
            name = id2label.get(int(label), "")
            if name not in LABELS:
                continue
            left, top = max(0, round(box[0])), max(0, round(box[1]))
            right, bottom = min(image.width, round(box[2])), min(image.height, round(box[3]))
            if right > left and bottom > top:
                out.append(Detection(name, float(score), (left, top, right, bottom)))
        return merge_same(out)

    def embed(self, crop: Image.Image) -> np.ndarray:
        """The L2-normalised DINOv2 embedding (pooled CLS output) of an animal's crop."""
        import torch

        with self.lock, torch.inference_mode():
            inputs = self.embedder_processor(images=crop.convert("RGB"), return_tensors="pt")
            inputs = inputs.to(self.device)
            out = self.embedder(**inputs)
            pooled = out.pooler_output if out.pooler_output is not None else out[0][:, 0]
        v = pooled[0].float().cpu().numpy().astype(np.float32)
        return v / max(float(np.linalg.norm(v)), 1e-6)


def model_folder(ref: str, cache: Path) -> Path | None:
    """A local folder as given, or a Hub repo's snapshot in the cache (None: not fetched)."""
    local = Path(ref).expanduser()
    if local.is_dir():
        return local
    from engine.hub_files import hub_file

    found = hub_file(ref, "config.json", cache)
    return found.parent if found is not None else None


def _name(ref: str) -> str:
    local = Path(ref).expanduser()
    return local.name if local.is_dir() else ref


def load_pet_models(settings: Settings) -> PetModels:
    """The configured detector and embedder, from local files only (never downloads)."""
    from transformers import AutoImageProcessor, AutoModel, AutoModelForObjectDetection

    from engine.pipeline.loader import resolve_device

    device = resolve_device(settings.device)
    folders = {}
    for what, ref in (("detector", settings.pet_detector), ("embedder", settings.pet_embedder)):
        folder = model_folder(ref, settings.models_dir)
        if folder is None:
            raise FileNotFoundError(
                f"the pet {what} {ref!r} is not here: run `sitter models fetch` (or point "
                f"SITTER_PET_{what.upper()} at a local folder)"
            )
        folders[what] = folder
    detector = (
        AutoModelForObjectDetection.from_pretrained(str(folders["detector"]), local_files_only=True)
        .eval()
        .to(device)
    )
    labels = {str(v).lower() for v in detector.config.id2label.values()}
    if not {"cat", "dog", "person"} <= labels:
        raise ValueError(
            f"the pet detector {settings.pet_detector!r} has no cat, dog and person classes "
            "(a COCO-trained detector has them)"
        )
    embedder = AutoModel.from_pretrained(str(folders["embedder"]), local_files_only=True)
    embedder = embedder.eval().to(device)
    return PetModels(
        detector=detector,
        detector_processor=AutoImageProcessor.from_pretrained(
            str(folders["detector"]), local_files_only=True, backend="pil"
        ),
        embedder=embedder,
        embedder_processor=AutoImageProcessor.from_pretrained(
            str(folders["embedder"]), local_files_only=True, backend="pil"
        ),
        detector_name=_name(settings.pet_detector),
        embedder_name=_name(settings.pet_embedder),
        device=device,
    )
