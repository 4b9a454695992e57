"""Face analysis with dlib and the CC0 weights that ``face_recognition_models`` ships.

No download: the models come with the pip package. Detection is dlib's HOG
frontal-face detector (fast on a CPU; it does not find profiles), landmarks are
the 5-point model (the 68-point one was trained on a non-commercial dataset),
embeddings are ``dlib_face_recognition_resnet_model_v1`` (128-d).

Similarity: dlib's embeddings are compared by euclidean distance ``d`` (dlib's
own rule of thumb: ``d < 0.6`` is the same person). We map it to 0..1 as
``similarity = clip(1 - d / 1.2, 0, 1)``: identical faces score 1, dlib's 0.6
rule lands on 0.5, and distances of 1.2 or more (very different faces) score 0.
The threshold on that scale is calibrated on ../shared/faces by
benchmarks/calibrate_faces.py (see :data:`SAME_PERSON_THRESHOLD`).
"""

from __future__ import annotations

import importlib.util
import math
import threading
import weakref
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from engine.faces.base import Face

# Calibrated with benchmarks/calibrate_faces.py on ../shared/faces (30 photos of
# 9 people): 37 same-person pairs scored 0.493-0.780 (median 0.679), 398
# different-person pairs 0.097-0.420 (median 0.245) on the similarity scale above.
# 0.46 (distance 0.65) sits in the middle of that gap: no false accept or reject.
SAME_PERSON_THRESHOLD = 0.46
# Protection refuses uploads that merely resemble a protected face: stricter than the
# same-person rule. benchmarks/bench_protection.py (leave-one-out on ../shared/faces):
# with one protected selfie, 0.51 let 2 of 74 photos of the same person through and
# 0.45 none, while refusing 0 of 796 photos of other people.
PROTECTION_THRESHOLD = 0.45
DISTANCE_SCALE = 1.2

# Detection runs in two tries (HOG's cost grows with the pixels it scans):
# 1. a quick look at a copy whose longer side is at most QUICK_MAX_SIDE, not
#    upsampled: it finds faces of about 80 px and more there (12% of the longer side);
# 2. when its largest face is narrower than SURE_FACE_PX (so a second face of
#    OTHER_FACE_SHARE of its width, which the quality check counts, could be under
#    HOG's 80 px window and missed), a closer look at the size where that face is
#    SURE_FACE_PX wide, when that size is at most CLOSER_MAX_SIDE (the thorough look
#    scans (2 * DETECT_MAX_SIDE)^2 pixels, more than that);
# 3. when no face was found, or the closer look was too big or still not sure, the
#    thorough look: a copy at most DETECT_MAX_SIDE, upsampled once, which finds faces
#    down to about 40 px there (5% of the longer side).
# A 50 MP photo costs the same as a 1 MP one. On ../shared/faces the quick look is
# enough for most identity photos (benchmarks/bench_analysis.py prints how many).
QUICK_MAX_SIDE = 640
DETECT_MAX_SIDE = 800
CLOSER_MAX_SIDE = 1400
HOG_WINDOW_PX = 80
OTHER_FACE_SHARE = 0.45  # engine.quality's other_face_share for both backends
SURE_FACE_PX = HOG_WINDOW_PX / OTHER_FACE_SHARE
# Landmarks, embeddings and crops use a copy at most this large.
WORK_MAX_SIDE = 2048
# HOG detections scoring below this are ignored: on ../shared/faces every real
# face scored 0.51 or more, while the mission patch on skimage's astronaut
# scored 0.12.
DETECT_MIN_SCORE = 0.3
# How far the nose base drops below the eye line, in eye distances, for a level
# head: the mean over the identity photos in ../shared/faces.
NEUTRAL_NOSE_DROP = 0.75


class ModelsMissing(RuntimeError):
    """The face models are not installed; the message says how to get them."""


def models_dir() -> Path:
    """The ``models`` folder of the face_recognition_models package.

    ``import face_recognition_models`` fails on new setuptools (it imports
    pkg_resources), so the folder is found without importing the package.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelsMissing(
            "The dlib face models are not installed: pip install face_recognition_models "
            "(about 100 MB, CC0 licence)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _scaled(image: Image.Image, max_side: int) -> tuple[Image.Image, float]:
    w, h = image.size
    scale = min(1.0, max_side / max(w, h))
    if scale >= 1.0:
        return image, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0), scale


def pose_from_five_points(points: np.ndarray) -> tuple[float, float]:
    """Rough yaw and pitch in degrees from dlib's 5 landmarks.

    The points are two corners per eye and the base of the nose. Turning the
    head moves the nose sideways relative to the eye midpoint by about
    ``0.3 * tan(yaw)`` inter-ocular distances (the nose base sits roughly 0.6
    eye-distances in front of the eye plane). Pitch moves it up or down from its
    neutral drop below the eye line (about 0.75 eye-distances for a level head,
    measured on ../shared/faces). Both are approximations good enough to catch
    strongly turned faces, not a head-pose model.
    """
    eye_a = points[0:2].mean(axis=0)
    eye_b = points[2:4].mean(axis=0)
    left, right = (eye_a, eye_b) if eye_a[0] <= eye_b[0] else (eye_b, eye_a)
    nose = points[4]
    axis = right - left
    dist = float(np.hypot(*axis))
    if dist < 1e-6:
        return 0.0, 0.0
    ux = axis / dist  # along the eye line (removes roll)
    uy = np.array([-ux[1], ux[0]])  # perpendicular, pointing down the face
    rel = nose - (left + right) / 2.0
    sideways = float(rel @ ux) / dist
    down = float(rel @ uy) / dist
    yaw = math.degrees(math.atan(sideways / 0.3))
    pitch = math.degrees(math.atan((down - NEUTRAL_NOSE_DROP) / 0.6))
    return yaw, pitch


class DlibAnalyzer:
    """The :class:`~engine.faces.base.FaceAnalyzer` built on dlib."""

    name = "dlib"
    same_person_threshold = SAME_PERSON_THRESHOLD
    protection_threshold = PROTECTION_THRESHOLD
    embedding_size = 128

    def __init__(self, folder: Path | None = None) -> None:
        import dlib  # imported here: the module must import without dlib installed

        folder = folder or models_dir()
        predictor = folder / "shape_predictor_5_face_landmarks.dat"
        recognizer = folder / "dlib_face_recognition_resnet_model_v1.dat"
        for path in (predictor, recognizer):
            if not path.is_file():
                raise ModelsMissing(
                    f"dlib model {path.name} not found in {folder}: "
                    "pip install --force-reinstall face_recognition_models"
                )
        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(str(predictor))
        self._recognizer = dlib.face_recognition_model_v1(str(recognizer))
        # dlib objects are not documented as thread-safe; the worker may call us
        # from several threads.
        self._lock = threading.Lock()
        # (the image, its working array, the scale) of the last image seen
        self._last_work: tuple[weakref.ref[Image.Image], Image.Image, np.ndarray, float] | None = (
            None
        )

    # --- FaceAnalyzer -----------------------------------------------------------
    def _find(
        self, work: Image.Image, side: int, upsample: int, enlarge: bool = False
    ) -> tuple[list[tuple[Any, float]], float]:
        """HOG boxes (in ``work`` pixels) on a grey copy of ``work`` whose longer side is
        at most ``side`` (exactly ``side`` with ``enlarge``), and that copy's scale."""
        if enlarge and side > max(work.size):
            scale = side / max(work.size)
            size = (round(work.width * scale), round(work.height * scale))
            small = work.resize(size, Image.Resampling.BILINEAR)
        else:
            small, scale = _scaled(work, side)
        rects, scores, _ = self._detector.run(np.asarray(small), upsample, 0.0)
        back = 1.0 / scale
        found = [
            (
                self._dlib.rectangle(
                    round(r.left() * back),
                    round(r.top() * back),
                    round(r.right() * back),
                    round(r.bottom() * back),
                ),
                float(score),
            )
            for r, score in zip(rects, scores, strict=True)
            if score >= DETECT_MIN_SCORE
        ]
        return found, scale

    def _look(self, work: Image.Image) -> list[tuple[Any, float]]:
        """The quick look, a closer one when its largest face is small, else the thorough
        look (see :data:`QUICK_MAX_SIDE`)."""
        side, enlarge = QUICK_MAX_SIDE, False
        for _ in range(2):
            found, scale = self._find(work, side, 0, enlarge)
            if not found:
                break
            widest = max(r.width() for r, _ in found) * scale  # at the scale HOG saw
            if widest >= SURE_FACE_PX:
                return found
            # Closer: the size at which that face is a tenth over SURE_FACE_PX (HOG's
            # boxes come in steps of 6/5; a small photo is enlarged to it), when that is
            # still cheaper than the thorough look.
            side = math.ceil(max(work.size) * scale * 1.1 * SURE_FACE_PX / widest)
            enlarge = True
            if side > CLOSER_MAX_SIDE:
                break
        return self._find(work, DETECT_MAX_SIDE, 1)[0]

    def _work(self, image: Image.Image) -> tuple[Image.Image, np.ndarray, float]:
        """The working copy of ``image`` (and as an array), made once per image:
        detection, landmarks, embedding and the aligned crop all read the same one."""
        cached = self._last_work
        if cached is not None and cached[0]() is image:
            return cached[1], cached[2], cached[3]
        work, scale = _scaled(image, WORK_MAX_SIDE)
        arr = np.ascontiguousarray(np.asarray(work))
        self._last_work = (weakref.ref(image), work, arr, scale)
        return work, arr, scale

    def detect(self, image: Image.Image) -> list[Face]:
        image = image.convert("RGB") if image.mode != "RGB" else image
        faces: list[Face] = []
        with self._lock:
            work, work_arr, work_scale = self._work(image)
            # HOG looks at grey copies: a third of the pixels to resize, and its gradient
            # features on one channel instead of three (about a quarter less time).
            found = self._look(work.convert("L"))
            to_image = 1.0 / work_scale  # work -> original image
            for r, score in found:
                shape = self._predictor(work_arr, r)
                chip = self._dlib.get_face_chip(work_arr, shape, size=150, padding=0.25)
                vec = np.asarray(self._recognizer.compute_face_descriptor(chip), np.float32)
                pts = np.array([[p.x, p.y] for p in shape.parts()], np.float32)
                yaw, pitch = pose_from_five_points(pts)
                box = (
                    max(0, round(r.left() * to_image)),
                    max(0, round(r.top() * to_image)),
                    min(image.width, round(r.right() * to_image)),
                    min(image.height, round(r.bottom() * to_image)),
                )
                faces.append(
                    Face(
                        box=box,
                        score=score,
                        landmarks=pts * to_image,
                        embedding=vec,
                        yaw=yaw,
                        pitch=pitch,
                    )
                )
        faces.sort(key=lambda f: f.width * f.height, reverse=True)
        return faces

    def similarity(self, a: np.ndarray, b: np.ndarray) -> float:
        d = float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))
        return float(min(1.0, max(0.0, 1.0 - d / DISTANCE_SCALE)))

    def aligned_crop(self, image: Image.Image, face: Face, size: int = 256) -> Image.Image:
        image = image.convert("RGB") if image.mode != "RGB" else image
        with self._lock:
            _, arr, scale = self._work(image)
            left, top, right, bottom = (round(v * scale) for v in face.box)
            rect = self._dlib.rectangle(left, top, right, bottom)
            parts = [
                self._dlib.point(round(x * scale), round(y * scale)) for x, y in face.landmarks
            ]
            shape = self._dlib.full_object_detection(rect, parts)
            chip = self._dlib.get_face_chip(arr, shape, size=size, padding=0.25)
        return Image.fromarray(chip)
