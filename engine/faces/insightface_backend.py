"""Face analysis with insightface's ``FaceAnalysis`` and a model pack.

Packs: ``buffalo_l`` / ``antelopev2`` (insightface's own; non-commercial research
use only) or ``auraface`` (Apache-2.0, usable commercially). Packs are folders of
ONNX files under ``<root>/models/<pack>``; ``sitter models fetch`` puts them there.
Nothing is downloaded at run time: a missing pack is a clear error.

Similarity is the cosine of the 512-d ``normed_embedding``s, mapped to 0..1 as
``(1 + cos) / 2``. The threshold is the one insightface's ArcFace packs are
usually verified with (cosine about 0.3-0.4, i.e. 0.65-0.7 here); it could not be
calibrated on this machine, which has no pack: re-run
``benchmarks/calibrate_faces.py --backend insightface`` where one is installed.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PIL import Image

from engine.faces.base import Face
from sitter.config import ConfigError

# cosine 0.36 -> (1 + 0.36) / 2 = 0.68 (uncalibrated here; see the module docstring)
SAME_PERSON_THRESHOLD = 0.68
PROTECTION_THRESHOLD = 0.66


class InsightFaceAnalyzer:
    same_person_threshold = SAME_PERSON_THRESHOLD
    protection_threshold = PROTECTION_THRESHOLD
    embedding_size = 512

    def __init__(self, pack: str, root: Path, device: str = "auto") -> None:
        self.name = f"insightface:{pack}"
        folder = root / "models" / pack
        if not folder.is_dir() or not any(folder.glob("*.onnx")):
            raise ConfigError(
                f"The insightface model pack {pack!r} is not installed (looked in {folder}). "
                "Run `sitter models fetch` on a machine with internet access, or copy the "
                f"pack's .onnx files there. {pack!r} is "
                + (
                    "Apache-2.0 (commercial use allowed)."
                    if pack.lower().startswith("aura")
                    else "insightface's own pack: non-commercial research use only; use "
                    "SITTER_FACE_PACK=auraface for commercial use."
                )
            )
        from insightface.app import FaceAnalysis

        providers = ["CPUExecutionProvider"]
        ctx_id = -1
        if device != "cpu":
            import onnxruntime

            if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
                providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
                ctx_id = 0
        # The folder itself, not the pack name: insightface then never tries to download.
        self._app = FaceAnalysis(name=str(folder), root=str(root), providers=providers)
        self._app.prepare(ctx_id=ctx_id, det_size=(640, 640))
        self._lock = threading.Lock()

    def detect(self, image: Image.Image) -> list[Face]:
        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
        with self._lock:
            found = self._app.get(bgr)
        faces = []
        for f in found:
            x0, y0, x1, y1 = (round(float(v)) for v in f.bbox)
            pose = getattr(f, "pose", None)  # pitch, yaw, roll when the pack has a pose model
            faces.append(
                Face(
                    box=(max(0, x0), max(0, y0), min(image.width, x1), min(image.height, y1)),
                    score=float(f.det_score),
                    landmarks=np.asarray(f.kps, np.float32),
                    embedding=np.asarray(f.normed_embedding, np.float32),
                    yaw=float(pose[1]) if pose is not None else None,
                    pitch=float(pose[0]) if pose is not None else None,
                )
            )
        faces.sort(key=lambda face: face.width * face.height, reverse=True)
        return faces

    def similarity(self, a: np.ndarray, b: np.ndarray) -> float:
        a = np.asarray(a, np.float32)
        b = np.asarray(b, np.float32)
        cos = float(a @ b / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-9))
        return (1.0 + cos) / 2.0

    def aligned_crop(self, image: Image.Image, face: Face, size: int = 256) -> Image.Image:
        from insightface.utils import face_align

        rgb = np.asarray(image.convert("RGB"))
        # norm_crop works in multiples of 112 (ArcFace's template); resize after.
        crop = face_align.norm_crop(rgb, face.landmarks, image_size=224)
        return Image.fromarray(crop).resize((size, size), Image.Resampling.LANCZOS)
