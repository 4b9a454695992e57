"""Is this a good reference photo? A verdict with reasons a person understands.

Measurements (all on the detected face, so a dark background or a blurred
bokeh does not count against a sharp, well-lit face):

- size: the face box width in pixels (absolute) and as a share of the photo's
  shorter side (relative);
- sharpness: variance of the Laplacian of the face box resized to
  :data:`SHARPNESS_SIZE` pixels grey, divided by the variance of the grey values.
  Resizing to a fixed size normalises for face size; dividing by the contrast
  keeps a dim but sharp face from looking blurred;
- exposure: mean luminance (0-255) of the central part of the face box and the
  share of clipped (>= 250) pixels there;
- angle: yaw and pitch from the backend (landmark geometry for dlib).

The thresholds live in one :class:`QualityThresholds` per backend and were placed by
benchmarks/calibrate_faces.py between the clean photos of ../shared/faces and
blurred/darkened/brightened copies of them (numbers in that script's output).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from engine.faces.base import Face
from sitter.contract import Issue, PhotoProblem

SHARPNESS_SIZE = 112


@dataclass(frozen=True)
class QualityThresholds:
    min_face_px: int  # face box width, original pixels
    min_face_share: float  # face box width / shorter image side
    # A second face counts when it is at least this share of the largest face's
    # width; smaller ones are people far behind (noted, not refused).
    other_face_share: float
    min_sharpness: float
    min_brightness: float  # mean face luminance
    max_brightness: float
    max_clipped: float  # share of face pixels at >= 250
    max_yaw: float  # degrees
    max_pitch: float


# Calibrated on ../shared/faces with benchmarks/calibrate_faces.py (dlib backend).
# The 30 identity photos (clean) against degraded copies of the same photos:
#   sharpness   clean 0.47-4.5    Gaussian blur radius face/40: 0.018-0.13 (or no face found)
#   brightness  clean 95-183      brightness x0.25: 23-45
#   brightness  clean 95-183      brightness x2.6: 211-252, clipped share 0.17-0.95 (clean <= 0.02)
#   face size   clean >= 110 px and >= 0.18 of the shorter side, full-length shots included
#   yaw / pitch clean within 31 / 17 degrees; t1.jpg's turned faces reach 42-51
# Every identity photo passes (the full-length obama/3, biden/1 and kit_harington/1
# too: their faces are 110-355 px, enough for a reference); group/ is refused with
# its count and noface/ as no face.
DLIB_THRESHOLDS = QualityThresholds(
    min_face_px=80,
    min_face_share=0.10,
    other_face_share=0.45,
    min_sharpness=0.25,
    min_brightness=65.0,
    max_brightness=200.0,
    max_clipped=0.08,
    max_yaw=40.0,
    max_pitch=30.0,
)

# insightface's SCRFD boxes include the forehead and chin (larger than dlib's HOG
# boxes), and its pose comes from the 3D landmark model. These could not be
# calibrated here (no model pack offline): they are dlib's, scaled for the box
# size, and must be re-checked with benchmarks/calibrate_faces.py on a GPU box.
INSIGHTFACE_THRESHOLDS = QualityThresholds(
    min_face_px=100,
    min_face_share=0.12,
    other_face_share=0.45,
    min_sharpness=0.25,
    min_brightness=65.0,
    max_brightness=200.0,
    max_clipped=0.08,
    max_yaw=40.0,
    max_pitch=30.0,
)


DEFAULT_THRESHOLDS = DLIB_THRESHOLDS


def thresholds_for(analyzer_name: str) -> QualityThresholds:
    """The thresholds calibrated for a backend (by its name, e.g. 'insightface:buffalo_l')."""
    return DLIB_THRESHOLDS if analyzer_name.startswith("dlib") else INSIGHTFACE_THRESHOLDS


@dataclass
class Verdict:
    issues: list[Issue]
    main: Face | None  # the face the photo is about, when there is exactly one
    face_count: int  # every face found
    measures: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.issues


def _grey_box(image: Image.Image, face: Face, shrink: float = 0.0) -> np.ndarray:
    left, top, right, bottom = face.box
    dx, dy = (right - left) * shrink, (bottom - top) * shrink
    box = (int(left + dx), int(top + dy), int(right - dx), int(bottom - dy))
    crop = image.crop(box).convert("L")
    return np.asarray(crop, dtype=np.float32)


def sharpness(image: Image.Image, face: Face) -> float:
    """Laplacian variance / grey variance of the face at a fixed size (see module doc)."""
    grey = _grey_box(image, face)
    if grey.size == 0:
        return 0.0
    small = cv2.resize(grey, (SHARPNESS_SIZE, SHARPNESS_SIZE), interpolation=cv2.INTER_AREA)
    lap = cv2.Laplacian(small, cv2.CV_32F, ksize=3)
    contrast = float(small.var())
    return float(lap.var()) / max(contrast, 1.0)


def exposure(image: Image.Image, face: Face) -> tuple[float, float]:
    """Mean luminance and share of clipped pixels in the central face region."""
    grey = _grey_box(image, face, shrink=0.15)
    if grey.size == 0:
        return 0.0, 0.0
    return float(grey.mean()), float((grey >= 250).mean())


def measure(image: Image.Image, face: Face) -> dict[str, float]:
    short = min(image.size)
    brightness, clipped = exposure(image, face)
    m = {
        "face_px": float(face.width),
        "face_share": face.width / short if short else 0.0,
        "sharpness": sharpness(image, face),
        "brightness": brightness,
        "clipped": clipped,
        "detector_score": float(face.score),
    }
    if face.yaw is not None:
        m["yaw"] = float(face.yaw)
    if face.pitch is not None:
        m["pitch"] = float(face.pitch)
    return {k: round(v, 4) for k, v in m.items()}


def _issue(problem: PhotoProblem, detail: str, **values: float | int | str) -> Issue:
    return Issue(problem=problem, detail=detail, values=values)


def assess(
    image: Image.Image, faces: list[Face], t: QualityThresholds = DEFAULT_THRESHOLDS
) -> Verdict:
    """The verdict for one photo given the faces a backend found in it."""
    if not faces:
        return Verdict(
            issues=[
                _issue(
                    PhotoProblem.NO_FACE,
                    "I can't find a face in this photo. If you are in it, it may be too "
                    "blurry, dark or bright, or your head is turned away: please send one "
                    "where your face is clearly visible and facing the camera.",
                )
            ],
            main=None,
            face_count=0,
        )
    largest = max(faces, key=lambda f: f.width)
    significant = [f for f in faces if f.width >= t.other_face_share * largest.width]
    notes = []
    if len(significant) < len(faces):
        notes.append(f"ignored {len(faces) - len(significant)} small face(s) in the background")
    if len(significant) > 1:
        n = len(significant)
        return Verdict(
            issues=[
                _issue(
                    PhotoProblem.SEVERAL_FACES,
                    f"I see {n} faces in this photo. Please send photos with only you in them.",
                    count=n,
                )
            ],
            main=None,
            face_count=len(faces),
            notes=notes,
        )

    face = largest
    m = measure(image, face)
    issues: list[Issue] = []
    if m["face_px"] < t.min_face_px or m["face_share"] < t.min_face_share:
        issues.append(
            _issue(
                PhotoProblem.FACE_TOO_SMALL,
                "Your face is too small in this photo. Please send a closer one, "
                "with your face filling more of the picture.",
                face_px=m["face_px"],
                face_share=m["face_share"],
            )
        )
    if m["sharpness"] < t.min_sharpness:
        issues.append(
            _issue(
                PhotoProblem.BLURRY,
                "This photo is too blurry. Please send a sharper one (hold still, good light).",
                sharpness=m["sharpness"],
            )
        )
    if m["brightness"] < t.min_brightness:
        issues.append(
            _issue(
                PhotoProblem.TOO_DARK,
                "Your face is too dark in this photo. Please send one taken in better light.",
                brightness=m["brightness"],
            )
        )
    elif m["brightness"] > t.max_brightness or m["clipped"] > t.max_clipped:
        issues.append(
            _issue(
                PhotoProblem.OVEREXPOSED,
                "Your face is washed out (too bright) in this photo. Please send one "
                "without strong flash or direct sun.",
                brightness=m["brightness"],
                clipped=m["clipped"],
            )
        )
    yaw, pitch = abs(m.get("yaw", 0.0)), abs(m.get("pitch", 0.0))
    if yaw > t.max_yaw or pitch > t.max_pitch:
        issues.append(
            _issue(
                PhotoProblem.EXTREME_ANGLE,
                "Your head is turned too far in this photo. Please send one where you "
                "look roughly towards the camera.",
                yaw=round(m.get("yaw", 0.0), 1),
                pitch=round(m.get("pitch", 0.0), 1),
            )
        )
    return Verdict(issues=issues, main=face, face_count=len(faces), measures=m, notes=notes)
