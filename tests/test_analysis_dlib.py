"""Photo analysis with the real dlib models on real photos."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import BAD_IMAGES, FACES, ROOT, insightface_image, needs_shared
from PIL import Image, ImageEnhance, ImageFilter

from engine.analysis import analyze_photo, check_set
from engine.faces.dlib_backend import DlibAnalyzer
from engine.intake import decode_photo
from sitter.contract import (
    AnalyzePhotoRequest,
    CheckSetRequest,
    Embedding,
    PhotoProblem,
    ProtectedFace,
)


@pytest.fixture(scope="module")
def analyzer() -> DlibAnalyzer:
    return DlibAnalyzer()


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


def _analyze(analyzer: DlibAnalyzer, photo: bytes, **kw: object):
    return analyze_photo(AnalyzePhotoRequest(photo=photo, **kw), analyzer)


def test_one_clear_face_is_accepted_with_embedding_and_crop(analyzer, astronaut) -> None:
    r = _analyze(analyzer, _png(astronaut))
    assert r.accepted, r.issues
    assert r.face_count == 1 and (r.width, r.height) == (512, 512)
    assert r.embedding is not None and r.embedding.backend == "dlib"
    assert len(r.embedding.vector) == 128
    crop = Image.open(io.BytesIO(r.face_crop or b""))
    assert crop.size == (256, 256)


def test_group_photo_is_refused_with_the_count(analyzer) -> None:
    r = _analyze(analyzer, insightface_image("t1.jpg").read_bytes())
    assert not r.accepted and r.issues[0].problem is PhotoProblem.SEVERAL_FACES
    assert r.face_count >= 4 and f"I see {r.face_count} faces" in r.issues[0].detail
    assert r.embedding is None


def test_tiny_photo_is_refused_as_low_resolution(analyzer) -> None:
    r = _analyze(analyzer, insightface_image("Tom_Hanks_54745.png").read_bytes())
    assert [i.problem for i in r.issues] == [PhotoProblem.LOW_RESOLUTION]
    assert "112x112" in r.issues[0].detail


@pytest.mark.parametrize(
    ("degrade", "problem"),
    [
        (lambda im: im.filter(ImageFilter.GaussianBlur(2)), PhotoProblem.BLURRY),
        (lambda im: ImageEnhance.Brightness(im).enhance(0.25), PhotoProblem.TOO_DARK),
        (lambda im: ImageEnhance.Brightness(im).enhance(1.6), PhotoProblem.OVEREXPOSED),
    ],
)
def test_degraded_photos_get_the_specific_reason(analyzer, astronaut, degrade, problem) -> None:
    r = _analyze(analyzer, _png(degrade(astronaut)))
    assert problem in [i.problem for i in r.issues]


def test_no_face(analyzer) -> None:
    from skimage import data

    r = _analyze(analyzer, _png(Image.fromarray(data.coffee())))
    assert [i.problem for i in r.issues] == [PhotoProblem.NO_FACE]


def _embedding(analyzer: DlibAnalyzer, path: Path) -> Embedding:
    r = _analyze(analyzer, path.read_bytes())
    assert r.embedding is not None, (path, r.issues)
    return r.embedding


@needs_shared
def test_same_person_above_and_others_below_threshold(analyzer) -> None:
    t = analyzer.same_person_threshold
    obama = [_embedding(analyzer, FACES / "obama" / f"{i}.jpg") for i in (1, 2, 4)]
    biden = _embedding(analyzer, FACES / "biden" / "2.jpg")
    v = [e.vector for e in obama]
    assert analyzer.similarity(v[0], v[1]) >= t and analyzer.similarity(v[0], v[2]) >= t
    assert analyzer.similarity(v[0], biden.vector) < t
    # A different person after two photos of Obama is named.
    r = _analyze(analyzer, (FACES / "biden" / "1.jpg").read_bytes(), set_embeddings=obama[:2])
    assert PhotoProblem.DIFFERENT_PERSON in [i.problem for i in r.issues]
    r = _analyze(analyzer, (FACES / "obama" / "3.jpg").read_bytes(), set_embeddings=obama[:2])
    assert r.accepted, r.issues


@needs_shared
def test_set_check_names_the_odd_one_out(analyzer) -> None:
    embs = [_embedding(analyzer, FACES / "deepface_id04" / f"{i}.jpg") for i in (1, 2, 3, 4)]
    embs.insert(2, _embedding(analyzer, FACES / "alex_lacamoire" / "2.jpg"))
    result = check_set(CheckSetRequest(embeddings=embs), analyzer)
    assert result.outliers == [2]
    assert result.distances[2] > result.threshold >= max(result.distances[:2])
    two = check_set(CheckSetRequest(embeddings=[embs[0], embs[2]]), analyzer)
    assert two.outliers == [0, 1]  # two photos that disagree: no majority, both named
    other_backend = Embedding(backend="insightface:buffalo_l", vector=[0.0] * 512)
    mixed = check_set(CheckSetRequest(embeddings=[*embs[:2], other_backend]), analyzer)
    assert mixed.outliers == []  # never compared across backends


@needs_shared
def test_protected_face_is_refused_neutrally_and_others_pass(analyzer) -> None:
    protected = [ProtectedFace(id=5, embedding=_embedding(analyzer, FACES / "obama" / "1.jpg"))]
    r = _analyze(analyzer, (FACES / "obama" / "4.jpg").read_bytes(), protected=protected)
    assert not r.accepted and r.protected_match == 5
    assert r.issues[0].problem is PhotoProblem.PROTECTED
    assert "obama" not in r.issues[0].detail.lower()
    assert r.embedding is None and r.face_crop is None  # nothing of it kept
    r = _analyze(analyzer, (FACES / "biden" / "2.jpg").read_bytes(), protected=protected)
    assert r.accepted and r.protected_match is None


@needs_shared
@pytest.mark.parametrize(
    "path",
    sorted(p for p in BAD_IMAGES.glob("*.*") if p.name != "SOURCES.md")
    if BAD_IMAGES.is_dir()
    else [],
    ids=lambda p: p.name,
)
def test_every_bad_image_gets_a_verdict_quickly(analyzer, path: Path) -> None:
    start = time.perf_counter()
    r = _analyze(analyzer, path.read_bytes(), filename=path.name)
    elapsed = time.perf_counter() - start
    # A guard against a hang (a bomb decoded in full takes minutes), not a speed target:
    # speed is measured by benchmarks/bench_analysis.py.
    assert elapsed < 20.0, f"{path.name} took {elapsed:.2f} s"
    if not r.accepted:
        assert r.issues and all(i.detail for i in r.issues)
    expected = {
        "empty.jpg": PhotoProblem.UNREADABLE,
        "text_named.jpg": PhotoProblem.UNREADABLE,
        "decompression_bomb.gif": PhotoProblem.TOO_LARGE,
        "decompression_bomb_extents.gif": PhotoProblem.TOO_LARGE,
        "truncated_jpeg.jpg": PhotoProblem.UNREADABLE,
        "truncated_image.png": PhotoProblem.UNREADABLE,
        "hopper.webp": PhotoProblem.LOW_RESOLUTION,  # 128x128
        "hopper.psd": PhotoProblem.UNSUPPORTED,
    }
    if path.name in expected:
        assert r.issues[0].problem is expected[path.name], r.issues


@needs_shared
def test_exif_orientation_and_cmyk_are_normalised() -> None:
    for name in ("hopper_orientation_3.jpg", "hopper_orientation_6.jpg"):
        photo = decode_photo((BAD_IMAGES / name).read_bytes(), min_side=1)
        assert any("rotated upright" in n for n in photo.notes)
    cmyk = decode_photo((BAD_IMAGES / "pil_sample_cmyk.jpg").read_bytes(), min_side=1)
    assert cmyk.image.mode == "RGB" and cmyk.original_mode == "CMYK"


@needs_shared
def test_photos_check_command_json() -> None:
    files = [FACES / "obama" / "1.jpg", FACES / "group" / "1.jpg"]
    out = subprocess.run(
        [sys.executable, "-m", "cli", "photos", "check", "--json", *map(str, files)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"SITTER_FACE_BACKEND": "dlib", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert out.returncode == 1, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows[0]["accepted"] is True and rows[0]["face_count"] == 1
    assert rows[1]["accepted"] is False and rows[1]["face_count"] == 2
    assert rows[1]["reasons"][0]["problem"] == "several_faces"
