"""Photo analysis jobs: one reference photo, or a whole set.

Pure, synchronous functions over the contract's models; the worker runs them in
a thread. The order: decode safely, find faces, judge quality, embed, then
compare with the user's other photos and with protected faces.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from engine.faces.base import FaceAnalyzer
from engine.identity import (
    check_consistency,
    comparable,
    protected_match,
    protected_references,
    similarity_to_set,
    vector,
)
from engine.intake import DecodedPhoto, IntakeLimits, PhotoRefused, decode_with_limits
from engine.near_duplicate import fingerprint
from engine.quality import QualityThresholds, assess, thresholds_for
from engine.safety_check import Screen
from sitter.contract import (
    AnalyzePhotoRequest,
    AnalyzePhotoResult,
    CheckSetRequest,
    CheckSetResult,
    Embedding,
    Issue,
    PhotoProblem,
    ProtectedMatch,
)

CROP_SIZE = 256
UNSAFE_DETAIL = (
    "I can't use this photo: it looks like it shows nudity. Please send an everyday "
    "photo of your face."
)


@dataclass(frozen=True)
class Opened:
    """A photo decoded within the limits and not refused by the safety screen, with the
    result fields every verdict carries (``base``) and those of an accepted one
    (``seen``: the fingerprint, so the same picture re-sent counts once)."""

    photo: DecodedPhoto
    base: dict[str, Any]
    seen: dict[str, Any]


def open_photo(
    req: AnalyzePhotoRequest,
    limits: IntakeLimits | None,
    safety: Screen | None,
    unsafe_detail: str,
) -> Opened | AnalyzePhotoResult:
    """The start of every photo's verdict, a person's or a pet's: decode within the
    limits, then the safety screen (first, whatever else the photo shows); a refusal
    comes back as the result."""
    try:
        photo = decode_with_limits(req.photo, limits or IntakeLimits())
    except PhotoRefused as refused:
        return AnalyzePhotoResult(
            accepted=False,
            issues=[Issue(problem=refused.problem, detail=refused.detail)],
            width=refused.width,
            height=refused.height,
        )
    base: dict[str, Any] = {"width": photo.width, "height": photo.height, "format": photo.format}
    if safety is not None and safety.refuses(photo.image):
        issue = Issue(problem=PhotoProblem.UNSAFE, detail=unsafe_detail)
        return AnalyzePhotoResult(accepted=False, issues=[issue], **base)
    return Opened(photo, base, {"fingerprint": fingerprint(photo.image)})


def analyze_photo(
    req: AnalyzePhotoRequest,
    analyzer: FaceAnalyzer,
    limits: IntakeLimits | None = None,
    thresholds: QualityThresholds | None = None,
    safety: Screen | None = None,
) -> AnalyzePhotoResult:
    """The verdict on one reference photo. With ``safety`` (the worker always passes
    it) a photo over the safety threshold is refused first, whatever else it shows."""
    opened = open_photo(req, limits, safety, UNSAFE_DETAIL)
    if isinstance(opened, AnalyzePhotoResult):
        return opened
    photo, base, seen = opened.photo, opened.base, opened.seen
    faces = analyzer.detect(photo.image)
    verdict = assess(photo.image, faces, thresholds or thresholds_for(analyzer.name))
    if verdict.main is None or verdict.face_count != 1 or verdict.main.embedding is None:
        return AnalyzePhotoResult(
            accepted=False,
            issues=verdict.issues,
            face_count=verdict.face_count,
            quality=verdict.measures,
            **base,
            **seen,
        )
    emb = verdict.main.embedding
    issues = list(verdict.issues)
    # A protected face is refused neutrally, and nothing of it is returned.
    match = protected_match(analyzer, emb, req.protected)
    if match is not None:
        return AnalyzePhotoResult(
            accepted=False,
            face_count=1,
            protected_match=match[0],
            quality=verdict.measures,
            issues=[
                Issue(
                    problem=PhotoProblem.PROTECTED,
                    detail="I can't use this photo. Please send photos of yourself.",
                )
            ],
            **base,
        )
    refs = comparable(analyzer, req.set_embeddings)
    quality = dict(verdict.measures)
    if refs:
        sim = similarity_to_set(analyzer, emb, refs)
        quality["set_similarity"] = round(sim, 3)
        if sim < analyzer.same_person_threshold:
            issues.append(
                Issue(
                    problem=PhotoProblem.DIFFERENT_PERSON,
                    detail="This looks like a different person than your other photos.",
                    values={"similarity": round(sim, 3)},
                )
            )
    crop = analyzer.aligned_crop(photo.image, verdict.main, CROP_SIZE)
    buf = io.BytesIO()
    crop.save(buf, "PNG", compress_level=1)  # a small crop; zlib level 6 took longer
    return AnalyzePhotoResult(
        accepted=not issues,
        issues=issues,
        face_count=1,
        embedding=Embedding(backend=analyzer.name, vector=[float(x) for x in emb]),
        face_crop=buf.getvalue(),
        quality=quality,
        **base,
        **seen,
    )


def check_set(req: CheckSetRequest, analyzer: FaceAnalyzer) -> CheckSetResult:
    """Name the photos of a set that look like someone else (indexes into the request).

    ``distances`` are ``1 - median similarity`` to the other photos on the
    backend's 0..1 scale and ``threshold`` is ``1 - same_person_threshold``: a
    photo further than that from the rest is an outlier. Embeddings from another
    backend are not compared (distance 0, never an outlier).
    """
    usable = [i for i, e in enumerate(req.embeddings) if e.backend == analyzer.name]
    result = check_consistency(analyzer, [vector(req.embeddings[i]) for i in usable])
    distances = [0.0] * len(req.embeddings)
    for k, i in enumerate(usable):
        distances[i] = round(1.0 - result.medians[k], 4)
    matches = protected_references(analyzer, req.embeddings, req.protected)
    return CheckSetResult(
        outliers=[usable[k] for k in result.outliers],
        threshold=round(1.0 - result.threshold, 4),
        distances=distances,
        protected_matches=[ProtectedMatch(index=i, protected_id=p) for i, p in matches],
    )


MAJORITY_DETAIL = "This looks like a different person than most of the other photos."
FIRST_PERSON_DETAIL = (
    "This shows someone else than the first photos. No one is in most of the photos, and a "
    "set holds one person, so the person the set began with is kept."
)


def judge_as_set(
    analyzer: FaceAnalyzer, results: list[AnalyzePhotoResult]
) -> list[AnalyzePhotoResult]:
    """The bot's rule for a set, for the shell commands: each photo analysed on its own,
    then every photo with a face judged together (:func:`engine.identity.one_person`: the
    majority's person, or without one the person of the earliest photos). The others are
    refused as a different person, whatever order the files came in."""
    faces = [i for i, r in enumerate(results) if r.accepted and r.embedding is not None]
    embs = [vector(results[i].embedding) for i in faces]  # type: ignore[arg-type]
    check = check_consistency(analyzer, embs)
    detail = MAJORITY_DETAIL if check.majority else FIRST_PERSON_DETAIL
    out = list(results)
    for k in check.outliers:
        i = faces[k]
        issue = Issue(
            problem=PhotoProblem.DIFFERENT_PERSON,
            detail=detail,
            values={"median_similarity": round(check.medians[k], 3)},
        )
        out[i] = results[i].model_copy(
            update={"accepted": False, "issues": [*results[i].issues, issue]}
        )
    return out


def minimum_note(usable: int, minimum: int) -> str:
    """Said when a set has fewer usable photos than the studio asks for."""
    photos = "photo" if usable == 1 else "photos"
    return (
        f"{usable} usable {photos}; the studio needs at least {minimum} of one person "
        "(10-20 is best) for a good likeness (SITTER_MIN_PHOTOS sets the minimum)."
    )
