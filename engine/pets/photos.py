"""A pet's photos: one photo (``analyze_photo`` with subject cat or dog) and a whole set.

The order, like a person's (engine/analysis.py): decode safely, the safety check, then
people (a face the face detector finds, or a large person box: refused like a group),
the animals (exactly one cat or dog, of the set's species), its size, sharpness and
exposure (measured on the animal's box, as a person's are on the face), its embedding
and crop, and its likeness to the set's other photos.

:func:`judge_detections` is the decision on given boxes, so it is tested without real
weights; the detector only supplies the boxes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from engine.analysis import open_photo
from engine.faces.base import Face, FaceAnalyzer
from engine.identity import check_consistency, similarity_to_set, vector
from engine.intake import IntakeLimits
from engine.near_duplicate import same_picture
from engine.pets import words
from engine.pets.analyzer import PetAnalyzer, as_face, crop_box
from engine.pets.models import Detection, PetModels
from engine.quality import exposure
from engine.safety_check import Screen
from sitter.contract import (
    AnalyzePhotoRequest,
    AnalyzePhotoResult,
    CheckSetRequest,
    CheckSetResult,
    Embedding,
    Issue,
    PhotoProblem,
    Subject,
)

CROP_SIZE = 256
SHARPNESS_SIDE = 224  # fur is fine texture: a face's 112 px hid a blur of 8 px in 900


def pet_sharpness(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    """Laplacian variance over grey variance of the animal's box at SHARPNESS_SIDE px."""
    import cv2

    grey = np.asarray(image.crop(box).convert("L"), np.float32)
    if grey.size == 0:
        return 0.0
    small = cv2.resize(grey, (SHARPNESS_SIDE, SHARPNESS_SIDE), interpolation=cv2.INTER_AREA)
    lap = cv2.Laplacian(small, cv2.CV_32F, ksize=3)
    return float(lap.var()) / max(float(small.var()), 1.0)


@dataclass(frozen=True)
class PetThresholds:
    """Not calibrated on a set of pet photos (none is here): the size bars are the face's
    doubled (a pet's crop is its whole body); sharpness was placed on scikit-image's cat
    (chelsea: 3.2 sharp, 0.66 / 0.15 / 0.04 under a Gaussian blur of 2 / 4 / 8 px per
    900 px); exposure is the face's with room for a black or a white coat."""

    min_pet_px: int = 160  # the box's shorter side, original pixels
    min_pet_share: float = 0.25  # the box's longer side / the picture's shorter side
    other_pet_share: float = 0.3  # a second animal counts from this share of the largest's area
    person_share: float = 0.5  # a person box this share of the pet's area is a person in it
    min_sharpness: float = 0.3  # at SHARPNESS_SIDE: see pet_sharpness
    min_brightness: float = 40.0
    max_brightness: float = 215.0
    max_clipped: float = 0.15


DEFAULT = PetThresholds()


@dataclass
class PetVerdict:
    issues: list[Issue]
    main: Detection | None  # the pet the photo is about, when there is exactly one
    count: int  # cats and dogs found (that count)
    species: Subject | None  # what the main animal is
    measures: dict[str, float] = field(default_factory=dict)


def _issue(problem: PhotoProblem, detail: str, **values: float | int | str) -> Issue:
    return Issue(problem=problem, detail=detail, values=values)


def judge_detections(
    image: Image.Image,
    found: list[Detection],
    faces: list[Face],
    species: Subject,
    t: PetThresholds = DEFAULT,
) -> PetVerdict:
    """The verdict on one pet photo given what the detectors found in it."""
    pets = sorted((d for d in found if d.label in ("cat", "dog")), key=lambda d: -d.area)
    largest = pets[0] if pets else None
    people = [d for d in found if d.label == "person"]
    big_people = [p for p in people if largest and p.area >= t.person_share * largest.area]
    if faces or big_people:
        issue = _issue(PhotoProblem.PERSON_IN_PET_PHOTO, words.PERSON_IN_PHOTO, faces=len(faces))
        return PetVerdict([issue], None, len(pets), None)
    if largest is None:
        return PetVerdict([_issue(PhotoProblem.NO_PET, words.no_pet(species))], None, 0, None)
    counted = [d for d in pets if d.area >= t.other_pet_share * largest.area]
    if len(counted) > 1:
        issue = _issue(PhotoProblem.SEVERAL_PETS, words.several(len(counted)), count=len(counted))
        return PetVerdict([issue], None, len(counted), None)
    found_species = Subject(largest.label)
    if found_species != species:
        issue = _issue(
            PhotoProblem.WRONG_SPECIES,
            words.wrong_species(species, found_species),
            found=found_species.value,
        )
        return PetVerdict([issue], None, 1, found_species)
    box = as_face(largest, None)
    brightness, clipped = exposure(image, box)
    short = min(image.size)
    m = {
        "pet_px": float(min(largest.width, largest.height)),
        "pet_share": max(largest.width, largest.height) / short if short else 0.0,
        "face_px": float(largest.width),  # what klein's reference choice reads
        "sharpness": pet_sharpness(image, largest.box),
        "brightness": brightness,
        "clipped": clipped,
        "detector_score": largest.score,
    }
    m = {k: round(v, 4) for k, v in m.items()}
    issues = []
    if m["pet_px"] < t.min_pet_px or m["pet_share"] < t.min_pet_share:
        issues.append(
            _issue(PhotoProblem.PET_TOO_SMALL, words.too_small(species), **_pick(m, "pet_"))
        )
    if m["sharpness"] < t.min_sharpness:
        issues.append(_issue(PhotoProblem.BLURRY, words.BLURRY, sharpness=m["sharpness"]))
    if m["brightness"] < t.min_brightness:
        issues.append(_issue(PhotoProblem.TOO_DARK, words.DARK, brightness=m["brightness"]))
    elif m["brightness"] > t.max_brightness or m["clipped"] > t.max_clipped:
        issues.append(
            _issue(PhotoProblem.OVEREXPOSED, words.BRIGHT, **_pick(m, "brightness", "clipped"))
        )
    return PetVerdict(issues, largest, 1, found_species, m)


def _pick(m: dict[str, float], *keys: str) -> dict[str, float | int | str]:
    return {k: v for k, v in m.items() if any(k.startswith(p) for p in keys)}


def analyze_pet_photo(
    req: AnalyzePhotoRequest,
    pets: PetModels,
    faces: FaceAnalyzer,
    limits: IntakeLimits | None = None,
    safety: Screen | None = None,
    thresholds: PetThresholds = DEFAULT,
) -> AnalyzePhotoResult:
    """The verdict on one photo for a cat's or a dog's set (``req.subject``)."""
    opened = open_photo(req, limits, safety, words.UNSAFE)
    if isinstance(opened, AnalyzePhotoResult):
        return opened
    photo, base, seen = opened.photo, opened.base, opened.seen
    image = photo.image.convert("RGB")
    verdict = judge_detections(
        image, pets.detect(image), faces.detect(image), req.subject, thresholds
    )
    if verdict.main is None:
        return AnalyzePhotoResult(
            accepted=False,
            issues=verdict.issues,
            species=verdict.species,
            **base,
            **seen,
        )
    analyzer = PetAnalyzer(pets, req.subject)
    crop = image.crop(crop_box(verdict.main.box, image.size))
    emb = pets.embed(crop)
    issues = list(verdict.issues)
    quality = dict(verdict.measures)
    refs = [vector(e) for e in req.set_embeddings if e.backend == analyzer.name]
    if refs:
        sim = similarity_to_set(analyzer, emb, refs)
        quality["set_similarity"] = round(sim, 3)
        if sim < analyzer.same_person_threshold:
            issues.append(
                _issue(
                    PhotoProblem.DIFFERENT_PERSON,
                    words.other_animal(req.subject),
                    similarity=round(sim, 3),
                )
            )
    buf = io.BytesIO()
    crop.resize((CROP_SIZE, CROP_SIZE), Image.Resampling.LANCZOS).save(buf, "PNG", compress_level=1)
    return AnalyzePhotoResult(
        accepted=not issues,
        issues=issues,
        embedding=Embedding(backend=analyzer.name, vector=[float(x) for x in emb]),
        face_crop=buf.getvalue(),
        quality=quality,
        species=verdict.species,
        **base,
        **seen,
    )


# Two embeddings this close are one picture sent twice (a resized or recompressed copy):
# it gets one vote in the set's majority, not two (engine/near_duplicate.py's idea, for
# embeddings: a set check request carries no pictures).
SAME_PICTURE_COS = 0.985


def unique_groups(
    analyzer: PetAnalyzer, embs: list[np.ndarray], prints: list[str] | None = None
) -> list[list[int]]:
    """Indexes grouped by near-identical embeddings, or by the pictures' fingerprints
    (engine/near_duplicate.py) where the caller has them, in upload order."""
    groups: list[list[int]] = []
    for i, e in enumerate(embs):
        for g in groups:
            a, b = (prints[g[0]], prints[i]) if prints else ("", "")
            if analyzer.similarity(embs[g[0]], e) >= SAME_PICTURE_COS or (
                a and b and same_picture(a, b)
            ):
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


def one_animal(
    analyzer: PetAnalyzer, embs: list[np.ndarray], prints: list[str] | None = None
) -> tuple[list[int], list[float], bool]:
    """(outliers, median similarities, majority): the set's one-animal rule
    (engine/identity.py, like a person's), near-duplicates counted once."""
    groups = unique_groups(analyzer, embs, prints)
    check = check_consistency(analyzer, [embs[g[0]] for g in groups])
    medians = [1.0] * len(embs)
    for k, g in enumerate(groups):
        for i in g:
            medians[i] = check.medians[k]
    outliers = sorted(i for k in check.outliers for i in groups[k])
    return outliers, medians, check.majority


def check_pet_set(req: CheckSetRequest, pets: PetModels) -> CheckSetResult:
    """The photos of a pet's set that show another animal (indexes into the request)."""
    analyzer = PetAnalyzer(pets, req.subject)
    usable = [i for i, e in enumerate(req.embeddings) if e.backend == analyzer.name]
    outliers, medians, _ = one_animal(analyzer, [vector(req.embeddings[i]) for i in usable])
    distances = [0.0] * len(req.embeddings)
    for k, i in enumerate(usable):
        distances[i] = round(1.0 - medians[k], 4)
    return CheckSetResult(
        outliers=[usable[k] for k in outliers],
        threshold=round(1.0 - analyzer.same_person_threshold, 4),
        distances=distances,
    )


def judge_pet_set(
    pets: PetModels, species: Subject, results: list[AnalyzePhotoResult]
) -> list[AnalyzePhotoResult]:
    """The bot's rule for a pet's set, for the shell (engine/analysis.judge_as_set's)."""
    analyzer = PetAnalyzer(pets, species)
    found = [i for i, r in enumerate(results) if r.accepted and r.embedding is not None]
    embs = [vector(results[i].embedding) for i in found]  # type: ignore[arg-type]
    prints = [results[i].fingerprint for i in found]
    outliers, medians, majority = one_animal(analyzer, embs, prints)
    out = list(results)
    for k in outliers:
        i = found[k]
        issue = _issue(
            PhotoProblem.DIFFERENT_PERSON,
            words.not_the_majority(species, majority),
            median_similarity=round(medians[k], 3),
        )
        out[i] = results[i].model_copy(
            update={"accepted": False, "issues": [*results[i].issues, issue]}
        )
    return out
