"""The per-person, per-style likeness gate on real photos (dlib's real models).

Real photos of ../shared/faces stand in for outputs (engine/gate_calibration.py): a
held-out photo of the person passes, other people fail, flipped, cropped and
re-compressed copies of a reference fail as copies; OpenCV drawings stand in for
painted and drawn styles. The photos are shrunk to 400 px so the module runs in
seconds; benchmarks/calibrate_gate.py prints the same rates on the full photos.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FACES, needs_shared
from PIL import Image, ImageOps

from engine.analysis import analyze_photo
from engine.faces.dlib_backend import DlibAnalyzer
from engine.gate import PersonGate, calibration_for
from engine.gate_calibration import Photo, evaluate, load_photos
from sitter.contract import (
    AnalyzePhotoRequest,
    GatePolicy,
    LikenessGate,
    StyleKind,
    Verdict,
)

PEOPLE = ("obama", "biden", "deepface_id01")
VARIANTS = ("flipped", "cropped", "jpeg q30", "posterize", "pencil grey")


@pytest.fixture(scope="module")
def analyzer() -> DlibAnalyzer:
    return DlibAnalyzer()


@pytest.fixture(scope="module")
def photos(analyzer: DlibAnalyzer) -> list[Photo]:
    if not FACES.is_dir():
        pytest.skip("needs ../shared/faces")
    return load_photos(analyzer, FACES, VARIANTS, PEOPLE, max_side=400)


@needs_shared
def test_photographic_gate_passes_the_person_and_fails_others_and_copies(
    analyzer: DlibAnalyzer, photos: list[Photo]
) -> None:
    r = evaluate(analyzer, photos, StyleKind.PHOTOGRAPHIC, GatePolicy.THRESHOLD)
    same, other = r.same["photo"], r.other["photo"]
    assert same.total == 10 and same.hits == same.total  # every held-out photo passes
    assert other.total > 50 and other.hits == 0  # no other person passes
    for kind in ("flipped", "cropped", "jpeg q30"):
        assert r.copies[kind].total >= 20 and r.copies[kind].hits == r.copies[kind].total, kind
    assert r.false_copy.hits == 0  # no real new photo is called a copy
    # The bar is the person's own: tighter sets get a higher one, never below dlib's rule.
    assert min(r.thresholds) == analyzer.same_person_threshold < max(r.thresholds)


@needs_shared
def test_blurred_and_mirrored_jpeg_copies_of_a_reference_are_copies(analyzer: DlibAnalyzer) -> None:
    """Issue 22, item 5: the pixel check missed a Gaussian blur (radius 2) and a mirror +
    JPEG q20 of a reference (here, every person's photos at 500 px: 5 of 74 mirror + q20
    copies were missed). The face print catches them all, while every held-out real photo
    still passes and none is called a copy."""
    edits = ("blur r2", "mirror + jpeg q20")
    photos = load_photos(analyzer, FACES, edits, max_side=500)
    r = evaluate(analyzer, photos, StyleKind.PHOTOGRAPHIC, GatePolicy.THRESHOLD)
    for edit in edits:
        rate = r.copies[edit]
        assert rate.total >= 70 and rate.hits == rate.total, (edit, str(rate))
    assert r.false_copy.hits == 0 and r.same["photo"].hits == r.same["photo"].total == 30


@needs_shared
def test_painted_and_drawn_proxies_follow_their_kind(
    analyzer: DlibAnalyzer, photos: list[Photo]
) -> None:
    painted = evaluate(analyzer, photos, StyleKind.PAINTED, GatePolicy.THRESHOLD)
    assert painted.same["posterize"].hits >= 9 and painted.other["posterize"].hits == 0
    strict = evaluate(analyzer, photos, StyleKind.DRAWN, GatePolicy.THRESHOLD)
    lenient = evaluate(analyzer, photos, StyleKind.DRAWN, GatePolicy.LENIENT)
    # A pencil sketch of the person mostly fails a threshold (and is often not even found
    # as a face); lenient lets nearly all of them through, and still catches every copy.
    assert strict.same["pencil grey"].hits <= 6
    assert lenient.same["pencil grey"].hits >= 8
    assert lenient.same["pencil grey"].hits > strict.same["pencil grey"].hits
    assert all(rate.hits == rate.total for rate in lenient.copies.values())


def _reference(analyzer: DlibAnalyzer, path):
    from sitter.contract import Reference

    res = analyze_photo(AnalyzePhotoRequest(photo=path.read_bytes()), analyzer)
    assert res.embedding is not None and res.face_crop is not None
    return Reference(embedding=res.embedding, face_crop=res.face_crop)


def _small(path) -> Image.Image:
    im = Image.open(path).convert("RGB")
    im.thumbnail((400, 400))
    return im


@needs_shared
def test_gate_from_contract_references_judges_images(analyzer: DlibAnalyzer) -> None:
    """The production path: references as the bot sends them (embedding + aligned crop)."""
    from engine.likeness import reference_vectors

    refs = [_reference(analyzer, FACES / "obama" / f"{i}.jpg") for i in (1, 2, 3)]
    vectors = reference_vectors(refs, analyzer.name, 128)
    gate = PersonGate.build(analyzer, vectors, [r.face_crop for r in refs], LikenessGate())
    held_out = gate.judge(_small(FACES / "obama" / "4.jpg"))
    assert held_out.verdict == Verdict.PASSED and held_out.passed
    assert held_out.score is not None and held_out.score >= gate.threshold
    other = gate.judge(_small(FACES / "biden" / "1.jpg"))
    assert other.verdict == Verdict.NOT_ALIKE and not other.passed
    flipped = gate.judge(ImageOps.mirror(_small(FACES / "obama" / "2.jpg")))
    assert flipped.verdict == Verdict.COPY and not flipped.passed
    assert gate.judge(Image.new("RGB", (64, 64))).verdict == Verdict.NO_FACE

    off = PersonGate.build(
        analyzer, vectors, [r.face_crop for r in refs], LikenessGate(policy="off", reason="r")
    )
    lk = off.judge(ImageOps.mirror(_small(FACES / "obama" / "2.jpg")))
    assert lk.verdict == Verdict.UNCHECKED and lk.passed and lk.score is not None


def test_policies_without_photos(analyzer: DlibAnalyzer) -> None:
    """No face: a threshold style redoes it, lenient and off deliver it unchecked."""
    refs = np.zeros((2, 128), np.float32)
    refs[1, 0] = 0.3
    blank = Image.new("RGB", (64, 64), "white")
    verdicts = {}
    for policy in GatePolicy:
        gate = PersonGate.build(analyzer, refs, (), LikenessGate(policy=policy, reason="why"))
        verdicts[policy] = gate.judge(blank)
    assert verdicts[GatePolicy.THRESHOLD].verdict == Verdict.NO_FACE
    assert not verdicts[GatePolicy.THRESHOLD].passed
    for policy in (GatePolicy.LENIENT, GatePolicy.OFF):
        assert verdicts[policy].verdict == Verdict.UNCHECKED and verdicts[policy].passed
    # A face exactly like one reference is a copy even without (readable) crops.
    gate = PersonGate.build(analyzer, refs, (b"not a png", None), LikenessGate())
    assert gate.crops == [None, None]
    assert gate.judge_face(refs[0]).verdict == Verdict.COPY


def test_uncalibrated_backend_gets_scaled_figures(analyzer: DlibAnalyzer) -> None:
    class Other:
        name = "insightface:auraface"
        same_person_threshold = 0.68

    cal = calibration_for(Other())  # type: ignore[arg-type]
    assert not cal.calibrated and cal.kinds[StyleKind.PHOTOGRAPHIC] == 0.68
    assert 0.68 < cal.copy_floor < 1.0 and cal.kinds[StyleKind.DRAWN] < 0.68
    assert calibration_for(analyzer).calibrated
