"""Real photos standing in for outputs: how the likeness gate behaves on a folder of faces.

A folder of identities (one sub-folder per person, like ../shared/faces) gives,
leave-one-out: a gate built from a person's other photos judges

- the held-out photo (a real new photo of the person: it should pass),
- OpenCV drawings of it standing in for painted and drawn styles (the same person
  by construction): ``cv2.stylization`` and a 2-bit posterize (painted),
  ``cv2.pencilSketch`` grey and colour (drawn),
- every other person's photos and drawings (they should fail),
- flipped, cropped and re-compressed copies of the gate's references (they should
  fail as copies).

``benchmarks/calibrate_gate.py`` prints the rates; tests assert them. Faces are
detected and embedded once per image (:func:`features`); judging is then cheap.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from engine.faces.base import FaceAnalyzer
from engine.gate import CROP_SIDE, PersonGate, grey_crop
from engine.near_duplicate import face_print
from sitter.contract import GatePolicy, LikenessGate, StyleKind, Verdict

SKIP_FOLDERS = {"group", "noface"}
# OpenCV's default shade factor (0.02) leaves a pencil sketch so faint that dlib finds
# only 12 of the 30 faces; 0.05 is closer to a real graphite drawing (22 of 30).
PENCIL_SHADE = 0.05


def _bgr(image: Image.Image) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)


def _rgb(array: np.ndarray) -> Image.Image:
    import cv2

    if array.ndim == 2:
        return Image.fromarray(array).convert("RGB")
    return Image.fromarray(cv2.cvtColor(array, cv2.COLOR_BGR2RGB))


def pencil_grey(image: Image.Image) -> Image.Image:
    import cv2

    return _rgb(cv2.pencilSketch(_bgr(image), shade_factor=PENCIL_SHADE)[0])


def pencil_colour(image: Image.Image) -> Image.Image:
    import cv2

    return _rgb(cv2.pencilSketch(_bgr(image), shade_factor=PENCIL_SHADE)[1])


def stylization(image: Image.Image) -> Image.Image:
    import cv2

    return _rgb(cv2.stylization(_bgr(image)))


def posterize(image: Image.Image) -> Image.Image:
    return ImageOps.posterize(image.convert("RGB"), 2)


# Each kind of style and the drawings that stand in for its outputs.
PROXIES: dict[StyleKind, dict[str, Callable[[Image.Image], Image.Image]]] = {
    StyleKind.PHOTOGRAPHIC: {"photo": lambda im: im},
    StyleKind.PAINTED: {"stylization": stylization, "posterize": posterize},
    StyleKind.DRAWN: {"pencil grey": pencil_grey, "pencil colour": pencil_colour},
}


def _jpeg(image: Image.Image, quality: int = 30) -> Image.Image:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _cropped(image: Image.Image) -> Image.Image:
    w, h = image.size
    return image.crop((round(w * 0.10), round(h * 0.08), round(w * 0.92), round(h * 0.95)))


def _blurred(image: Image.Image) -> Image.Image:
    from PIL import ImageFilter

    return image.filter(ImageFilter.GaussianBlur(2))


def _crop_right(image: Image.Image) -> Image.Image:
    w, h = image.size
    return image.crop((0, 0, round(w * 0.82), h))


def _rotated(image: Image.Image) -> Image.Image:
    return image.rotate(9, Image.Resampling.BICUBIC, expand=True)


def _gamma_crop_top(image: Image.Image) -> Image.Image:
    w, h = image.size
    lighter = image.point(lambda v: round(255 * (v / 255) ** 0.6))
    return lighter.crop((0, round(h * 0.15), w, h))


def _border_shift(image: Image.Image) -> Image.Image:
    w, h = image.size
    b = max(1, round(min(w, h) * 0.08))
    framed = Image.new("RGB", (w + 3 * b, h + 2 * b), (128, 128, 128))
    framed.paste(image.convert("RGB"), (2 * b, b))
    return framed


# A copy of a reference: what an identity model that pastes the selfie gives (the gate
# must call it a copy), and the light edits someone makes to send one picture as several
# (issue 22: the photo check must count it once). benchmarks/calibrate_same_picture.py.
COPIES: dict[str, Callable[[Image.Image], Image.Image]] = {
    "flipped": ImageOps.mirror,
    "cropped": _cropped,
    "jpeg q30": _jpeg,
    "blur r2": _blurred,
    "mirror + jpeg q20": lambda im: _jpeg(ImageOps.mirror(im), 20),
    "crop right 18%": _crop_right,
    "rotate 9": _rotated,
    "gamma + crop top 15%": _gamma_crop_top,
    "border + shift": _border_shift,
}


@dataclass(frozen=True)
class FaceFeatures:
    embedding: np.ndarray
    crop: Image.Image  # the aligned crop, as analysis stores it for a reference
    grey: np.ndarray
    printed: np.ndarray | None = None  # its face print (engine/near_duplicate.py)


def features(analyzer: FaceAnalyzer, image: Image.Image) -> FaceFeatures | None:
    """The largest face's embedding and aligned crop, or None when no face is found."""
    image = image.convert("RGB")
    faces = [f for f in analyzer.detect(image) if f.embedding is not None]
    if not faces:
        return None
    crop = analyzer.aligned_crop(image, faces[0], CROP_SIDE)
    embedding, grey = faces[0].embedding, grey_crop(crop)
    assert embedding is not None and grey is not None  # a face with an embedding; a crop
    return FaceFeatures(embedding, crop, grey, face_print(crop))


@dataclass
class Photo:
    person: str
    name: str
    variants: dict[str, FaceFeatures | None]  # "photo", each proxy and each copy


def load_photos(
    analyzer: FaceAnalyzer,
    folder: Path,
    variants: Iterable[str] | None = None,
    people: Iterable[str] | None = None,
    max_side: int | None = None,
) -> list[Photo]:
    """Detect and embed every identity photo in ``folder`` and the chosen variants of it
    (``max_side``: shrink the photos first, for quick tests)."""
    from engine.intake import decode_photo

    makers: dict[str, Callable[[Image.Image], Image.Image]] = {}
    for proxies in PROXIES.values():
        makers.update(proxies)
    makers.update(COPIES)
    wanted = list(variants) if variants is not None else list(makers)
    chosen = set(people) if people is not None else None
    photos = []
    for d in sorted(p for p in Path(folder).iterdir() if p.is_dir()):
        if d.name in SKIP_FOLDERS or (chosen is not None and d.name not in chosen):
            continue
        for path in sorted(d.glob("*.jpg")):
            image = decode_photo(path.read_bytes()).image
            if max_side and max(image.size) > max_side:
                image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            feats = {v: features(analyzer, makers[v](image)) for v in {"photo", *wanted}}
            photos.append(Photo(d.name, path.name, feats))
    return photos


@dataclass
class Rate:
    hits: int = 0
    total: int = 0

    def add(self, hit: bool) -> None:
        self.hits += int(hit)
        self.total += 1

    def __str__(self) -> str:
        pct = 100.0 * self.hits / self.total if self.total else 0.0
        return f"{self.hits}/{self.total} ({pct:.0f}%)"


@dataclass
class KindReport:
    kind: StyleKind
    policy: GatePolicy
    found: dict[str, Rate] = field(default_factory=dict)  # faces found in the person's proxies
    same: dict[str, Rate] = field(default_factory=dict)  # the person's outputs accepted
    same_fixed: dict[str, Rate] = field(default_factory=dict)  # ... by today's fixed threshold
    other: dict[str, Rate] = field(default_factory=dict)  # other people's outputs accepted
    copies: dict[str, Rate] = field(default_factory=dict)  # copies of a reference caught
    false_copy: Rate = field(default_factory=Rate)  # the person's real outputs called copies
    thresholds: list[float] = field(default_factory=list)


def evaluate(
    analyzer: FaceAnalyzer, photos: list[Photo], kind: StyleKind, policy: GatePolicy
) -> KindReport:
    """Leave-one-out over every person with two or more photos, for one kind of style."""
    gate_policy = LikenessGate(kind=kind, policy=policy, reason="calibration")
    report = KindReport(kind, policy)
    fixed = analyzer.same_person_threshold
    by_person: dict[str, list[Photo]] = {}
    for p in photos:
        if p.variants["photo"] is not None:
            by_person.setdefault(p.person, []).append(p)
    for person, own in by_person.items():
        if len(own) < 2:
            continue
        for held in own:
            refs = [p for p in own if p is not held]
            ref_feats = [f for p in refs if (f := p.variants["photo"]) is not None]
            gate = PersonGate.build(
                analyzer,
                np.stack([f.embedding for f in ref_feats]),
                [f.crop for f in ref_feats],
                gate_policy,
            )
            report.thresholds.append(gate.bar() or 0.0)
            for proxy in (p for p in PROXIES[kind] if p in held.variants):
                f = held.variants[proxy]
                report.found.setdefault(proxy, Rate()).add(f is not None)
                lk = (
                    gate.judge_face(f.embedding, f.grey, f.printed)
                    if f is not None
                    else gate._no_face()
                )
                report.same.setdefault(proxy, Rate()).add(lk.passed)
                report.false_copy.add(lk.verdict == Verdict.COPY)
                report.same_fixed.setdefault(proxy, Rate()).add(
                    lk.score is not None and lk.score >= fixed
                )
                for other in photos:
                    g = other.variants.get(proxy)
                    if other.person == person or g is None:
                        continue
                    report.other.setdefault(proxy, Rate()).add(
                        gate.judge_face(g.embedding, g.grey, g.printed).passed
                    )
            for ref in refs:
                for copy in COPIES:
                    if copy not in ref.variants:
                        continue
                    c = ref.variants[copy]
                    if c is None:
                        continue  # a copy without a face is a no-face miss, not a copy
                    lk = gate.judge_face(c.embedding, c.grey, c.printed)
                    report.copies.setdefault(copy, Rate()).add(lk.verdict == Verdict.COPY)
    return report
