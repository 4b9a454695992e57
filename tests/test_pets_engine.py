"""Pets, the engine's photo side: tiny random RT-DETR and DINOv2 through the production
loader, the decision on given boxes, the real photos' plumbing, the set's one-animal rule
and the colour drift check."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from pet_models import astronaut, build, chelsea, pet_settings, png
from PIL import Image, ImageEnhance, ImageFilter

from engine.faces.base import Face
from engine.pets.analyzer import PetAnalyzer, crop_box, head_box
from engine.pets.colour import colour_check
from engine.pets.models import Detection, PetModels, load_pet_models, merge_same
from engine.pets.photos import check_pet_set, judge_detections
from engine.runtime import Runtime
from sitter import contract as c

pytestmark = pytest.mark.usefixtures("one_torch_thread")
P = c.PhotoProblem


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build(tmp_path_factory.mktemp("pet-models"))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pet-data")


@pytest.fixture(scope="module")
def runtime(folders: dict[str, Path], data: Path) -> Runtime:
    return Runtime(pet_settings(folders, data)).load(("faces", "pets"))


def test_the_real_classes_load_through_the_production_loader(runtime: Runtime) -> None:
    from transformers import Dinov2Model, RTDetrForObjectDetection

    pets = runtime.require_pets()
    assert isinstance(pets.detector, RTDetrForObjectDetection)
    assert isinstance(pets.embedder, Dinov2Model)
    assert type(pets.detector_processor).__name__ == "RTDetrImageProcessorPil"  # no torchvision
    assert pets.backend == "dinov2:emb"
    found = pets.detect(chelsea())
    assert [d.label for d in found] == ["cat"] and found[0].box[:2] == (0, 0)
    v = pets.embed(chelsea().crop((0, 0, 300, 300)))
    assert v.shape == (32,) and abs(float(np.linalg.norm(v)) - 1.0) < 1e-5


def test_missing_models_say_how_to_fetch_them(tmp_path: Path) -> None:
    from sitter.config import load_settings

    settings = load_settings(data_dir=tmp_path, pet_detector="PekingU/rtdetr_r18vd")
    with pytest.raises(FileNotFoundError, match="sitter models fetch"):
        load_pet_models(settings)
    from engine.job_errors import Permanent

    with pytest.raises(Permanent) as failed:  # a worker answers not_available, and lives
        Runtime(settings).require_pets()
    assert failed.value.code == c.FailureCode.NOT_AVAILABLE


def test_the_shell_says_why_without_pet_models(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """`sitter photos check --pet cat` without the models exited 2 and said nothing: the
    message went to stderr while the decoders' chatter was muted."""
    import argparse

    from engine.cli_photos import cmd_photos
    from sitter.config import load_settings

    settings = load_settings(
        data_dir=tmp_path, face_backend="dlib", pet_detector="PekingU/rtdetr_r18vd"
    )
    args = argparse.Namespace(files=["x.png"], as_set=False, json=False, pet="cat")
    assert cmd_photos(args, settings) == 2
    err = capfd.readouterr().err
    assert "the pet detector 'PekingU/rtdetr_r18vd' is not here" in err, err
    assert "sitter models fetch" in err, err


# --- the decision on given boxes -----------------------------------------------------------
CAT = chelsea()  # 902 x 600
BIG = (150, 60, 750, 580)


def _judge(found: list[Detection], faces: list[Face] | None = None, image: Image.Image = CAT):
    return judge_detections(image, found, faces or [], c.Subject.CAT)


def _face() -> Face:
    return Face(box=(10, 10, 90, 90), score=1.0, landmarks=np.zeros((5, 2), np.float32))


def test_one_large_sharp_cat_is_accepted() -> None:
    v = _judge([Detection("cat", 0.9, BIG)])
    assert v.issues == [] and v.main is not None and v.species == c.Subject.CAT
    assert v.measures["pet_px"] == 520 and v.measures["sharpness"] > 0.25
    # a small second animal far behind does not count; a person's hand-sized box neither
    assert (
        _judge([Detection("cat", 0.9, BIG), Detection("dog", 0.8, (0, 0, 120, 120))]).issues == []
    )
    assert (
        _judge([Detection("cat", 0.9, BIG), Detection("person", 0.8, (0, 0, 150, 150))]).issues
        == []
    )


@pytest.mark.parametrize(
    ("found", "faces", "problem"),
    [
        ([], 0, P.NO_PET),
        ([Detection("cat", 0.9, BIG), Detection("cat", 0.8, (0, 0, 500, 400))], 0, P.SEVERAL_PETS),
        ([Detection("cat", 0.9, BIG), Detection("dog", 0.8, (0, 0, 500, 400))], 0, P.SEVERAL_PETS),
        ([Detection("dog", 0.9, BIG)], 0, P.WRONG_SPECIES),
        ([Detection("cat", 0.9, (400, 300, 520, 420))], 0, P.PET_TOO_SMALL),
        ([Detection("cat", 0.9, BIG)], 1, P.PERSON_IN_PET_PHOTO),  # a face beside the cat
        (
            [Detection("cat", 0.9, BIG), Detection("person", 0.9, (0, 0, 900, 600))],
            0,
            P.PERSON_IN_PET_PHOTO,
        ),
        ([], 1, P.PERSON_IN_PET_PHOTO),  # a person and no pet: the person is the reason
    ],
)
def test_refusals_on_given_boxes(found: list[Detection], faces: int, problem: P) -> None:
    v = _judge(found, [_face()] * faces)
    assert [i.problem for i in v.issues] == [problem]
    assert (v.main is None) == (problem != P.PET_TOO_SMALL)  # a small one is still measured
    if problem == P.WRONG_SPECIES:
        assert v.species == c.Subject.DOG and "shows a dog" in v.issues[0].detail


def test_blur_and_exposure_are_measured_on_the_animal() -> None:
    cat = [Detection("cat", 0.9, BIG)]
    blurred = CAT.filter(ImageFilter.GaussianBlur(8))
    assert [i.problem for i in _judge(cat, image=blurred).issues] == [P.BLURRY]
    dark = ImageEnhance.Brightness(CAT).enhance(0.2)
    assert P.TOO_DARK in [i.problem for i in _judge(cat, image=dark).issues]
    bright = ImageEnhance.Brightness(CAT).enhance(3.0)
    assert P.OVEREXPOSED in [i.problem for i in _judge(cat, image=bright).issues]


def test_boxes_of_one_animal_merge_and_crops_stay_inside() -> None:
    a, b = Detection("cat", 0.9, (0, 0, 100, 100)), Detection("cat", 0.5, (2, 2, 100, 100))
    assert merge_same([b, a]) == [a]
    assert len(merge_same([a, Detection("dog", 0.5, (2, 2, 100, 100))])) == 2
    assert crop_box((800, 500, 900, 600), (902, 600)) == (786, 484, 902, 600)
    assert crop_box((0, 0, 902, 600), (902, 600)) == (151, 0, 751, 600)  # cut to the short side
    assert head_box((100, 100, 300, 500)) == (145, 100, 255, 210)  # top centre of the body


# --- real photos through the plumbing (tiny random weights) --------------------------------
def _analyze(runtime: Runtime, image: Image.Image, subject: c.Subject = c.Subject.CAT, **kw):
    from engine.work import WORK

    req = c.AnalyzePhotoRequest(photo=png(image), subject=subject, **kw)
    return WORK[c.JOB_ANALYZE](runtime, req, threading.Event())


def test_chelsea_through_the_worker_job(runtime: Runtime) -> None:
    """The tiny detector 'finds' a cat (its favoured class, a large box); everything after
    it is the production path: quality, crop, DINOv2 embedding, fingerprint."""
    res = _analyze(runtime, chelsea())
    assert isinstance(res, c.AnalyzePhotoResult)
    assert res.accepted, res.issues
    assert res.species == c.Subject.CAT and res.face_count == 0
    assert res.embedding is not None and res.embedding.backend == "dinov2:emb"
    assert len(res.embedding.vector) == 32 and res.fingerprint
    with Image.open(io.BytesIO(res.face_crop or b"")) as crop:
        assert crop.size == (256, 256)
    # The same photo for a dog's set: this cat is the wrong species.
    dog = _analyze(runtime, chelsea(), c.Subject.DOG)
    assert [i.problem for i in dog.issues] == [P.WRONG_SPECIES] and dog.species == c.Subject.CAT
    # Against a set of another animal: refused as a different one (the bot words it).
    other = c.Embedding(backend="dinov2:emb", vector=[-x for x in res.embedding.vector])
    away = _analyze(runtime, chelsea(), set_embeddings=[other])
    assert [i.problem for i in away.issues] == [P.DIFFERENT_PERSON]


def test_astronaut_is_a_person_and_no_pet(
    runtime: Runtime, folders: dict[str, Path], data: Path
) -> None:
    """dlib (real weights) finds her face: refused as a person in a pet photo, whatever the
    detector says (the tiny 'cat' one claims a cat; the untouched one finds nothing)."""
    res = _analyze(runtime, astronaut())
    assert [i.problem for i in res.issues] == [P.PERSON_IN_PET_PHOTO] and res.embedding is None
    blind = Runtime(pet_settings(folders, data, detector="none")).load(("faces", "pets"))
    assert [i.problem for i in _analyze(blind, astronaut()).issues] == [P.PERSON_IN_PET_PHOTO]
    assert [i.problem for i in _analyze(blind, chelsea()).issues] == [P.NO_PET]


# --- the set: one animal by the majority, near-duplicates counted once -----------------------
def _unit(
    rng: np.random.Generator, base: np.ndarray | None = None, noise: float = 0.0
) -> list[float]:
    v = rng.normal(size=32) if base is None else base + noise * rng.normal(size=32)
    return (v / np.linalg.norm(v)).tolist()


def test_set_check_by_the_majority_with_copies_counted_once(runtime: Runtime) -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=32), rng.normal(size=32)
    emb = lambda v: c.Embedding(backend="dinov2:emb", vector=v)  # noqa: E731
    # four photos of A and one of B: B is the outlier
    plain = [emb(_unit(rng, a, 0.3)) for _ in range(4)] + [emb(_unit(rng, b, 0.3))]
    res = check_pet_set(
        c.CheckSetRequest(embeddings=plain, subject=c.Subject.CAT), runtime.require_pets()
    )
    assert res.outliers == [4]
    # one photo of A sent three times (near-identical embeddings) and two of B: A counts
    # once, so B's two photos are the set and the copies of A are named
    copy = _unit(rng, a, 0.3)
    copies = [emb(_unit(rng, np.asarray(copy), 0.01)) for _ in range(3)]
    mixed = [*copies, emb(_unit(rng, b, 0.3)), emb(_unit(rng, b, 0.3))]
    res = check_pet_set(
        c.CheckSetRequest(embeddings=mixed, subject=c.Subject.CAT), runtime.require_pets()
    )
    assert res.outliers == [0, 1, 2]
    # a person's embedding in the list is never compared with the animal's
    odd = [*plain, c.Embedding(backend="dlib", vector=[0.1] * 128)]
    res = check_pet_set(
        c.CheckSetRequest(embeddings=odd, subject=c.Subject.CAT), runtime.require_pets()
    )
    assert res.outliers == [4] and res.distances[5] == 0.0


def test_the_pet_analyzer_is_a_face_analyzer_for_the_gate(runtime: Runtime) -> None:
    analyzer = runtime.subject_analyzer(c.Subject.CAT)
    assert isinstance(analyzer, PetAnalyzer) and analyzer.name == "dinov2:emb"
    faces = analyzer.detect(chelsea())
    assert len(faces) == 1 and faces[0].embedding is not None
    assert analyzer.detect(chelsea()) and not runtime.subject_analyzer(c.Subject.DOG).detect(
        chelsea()
    )
    assert analyzer.aligned_crop(chelsea(), faces[0], 64).size == (64, 64)
    assert isinstance(runtime.require_pets(), PetModels)


# --- the colour drift check ------------------------------------------------------------
def _hue_turned(image: Image.Image, degrees: int) -> Image.Image:
    hsv = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0].astype(int) + degrees // 2) % 180
    return Image.fromarray(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB))


def test_a_recoloured_coat_is_flagged_the_same_colours_pass() -> None:
    crop = Image.fromarray(np.asarray(chelsea(1))).crop((100, 20, 380, 300))
    canvas = Image.new("RGB", (600, 400), (30, 120, 200))  # a blue background around it
    canvas.paste(crop, (150, 60))
    box = (150, 60, 430, 340)
    same = colour_check(canvas, box, [crop])
    assert same.passed and same.drift < 1.0 and same.reason == ""
    smaller = colour_check(canvas.resize((300, 200)), (75, 30, 215, 170), [crop])
    assert smaller.passed and smaller.drift < 3.0
    darker = colour_check(ImageEnhance.Brightness(canvas).enhance(0.85), box, [crop])
    assert darker.passed  # a lighting change is not a new coat
    turned = canvas.copy()
    turned.paste(_hue_turned(crop, 180), (150, 60))
    drift = colour_check(turned, box, [crop])
    assert not drift.passed and drift.drift > drift.limit and drift.hue > 0.5
    assert drift.reason.startswith("the coat's colours drifted")
    # A pencil portrait has no colours to keep: held to the lightness only.
    grey = canvas.convert("L").convert("RGB")
    assert colour_check(grey, box, [crop]).passed


def test_the_pet_fields_travel_and_an_older_side_never_sees_them() -> None:
    req = c.GenerateRequest(
        generation_id="g",
        prompt="a cat",
        seeds=[1],
        references=[c.Reference(embedding=c.Embedding(backend="dinov2:x", vector=[0.1]))],
        subject=c.Subject.DOG,
    )
    job = {"t": None, "f": c.JOB_GENERATE, "a": [c.to_wire(req)], "k": {}, "et": 0}
    back = c.parse_request(c.JOB_GENERATE, c.deserialize(c.serialize(job))["a"][0])
    assert back.subject == c.Subject.DOG
    assert "subject" not in c.to_wire(req, 3)  # a contract-3 engine is never sent it
    v = c.Variation(
        seed=1, image=b"x", likeness=0.5, face_found=True, passed=False,
        verdict=c.Verdict.COLOUR_DRIFT, colour=c.ColourCheck(drift=40.0, limit=25.0, passed=False),
    )  # fmt: skip
    assert c.to_wire(v, 2)["verdict"] == c.Verdict.NOT_ALIKE and "colour" not in c.to_wire(v, 3)
    refused = c.Issue(problem=c.PhotoProblem.PERSON_IN_PET_PHOTO, detail="x")
    assert c.to_wire(refused, 3)["problem"] == c.PhotoProblem.SEVERAL_FACES


def test_the_shell_judges_a_set_with_one_picture_sent_three_times_once(runtime: Runtime) -> None:
    """sitter photos check --pet --as-set / sitter generate: the pictures' fingerprints
    (engine/near_duplicate.py) group a re-sent picture even when its crops embed apart."""
    from engine.near_duplicate import fingerprint
    from engine.pets.photos import judge_pet_set

    rng = np.random.default_rng(5)
    a, b = rng.normal(size=32), rng.normal(size=32)
    same = fingerprint(chelsea())
    others = [fingerprint(astronaut()), fingerprint(Image.effect_noise((64, 64), 80))]

    def result(vector: list[float], printed: str) -> c.AnalyzePhotoResult:
        emb = c.Embedding(backend="dinov2:emb", vector=vector)
        return c.AnalyzePhotoResult(accepted=True, embedding=emb, fingerprint=printed)

    results = [result(_unit(rng, a, 0.3), same) for _ in range(3)]
    results += [result(_unit(rng, b, 0.3), p) for p in others]
    judged = judge_pet_set(runtime.require_pets(), c.Subject.CAT, results)
    assert [r.accepted for r in judged] == [False, False, False, True, True]
    assert judged[0].issues[0].problem == P.DIFFERENT_PERSON
    assert "different cat" in judged[0].issues[0].detail
