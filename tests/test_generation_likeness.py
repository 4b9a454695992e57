"""Likeness: the scorer on real photos, and the regenerate-until-it-looks-right loop."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FACES, insightface_image, needs_shared
from identity_refs import reference_of
from PIL import Image, ImageEnhance, ImageOps

from engine import likeness
from engine.gate import PersonGate
from engine.pipeline import generate as gen
from engine.runtime import Runtime
from sitter.config import load_settings
from sitter.contract import (
    Embedding,
    GatePolicy,
    GenerateRequest,
    LikenessGate,
    Reference,
    StyleKind,
    Verdict,
)

# Two cores shared by many processes: one torch thread is several times faster here.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    data = tmp_path_factory.mktemp("data")
    settings = load_settings(model="tiny", face_backend="dlib", data_dir=data)
    return Runtime(settings).load(("faces", "pipeline", "signer"))


def _embed(rt: Runtime, image: Image.Image) -> np.ndarray:
    faces = rt.require_analyzer().detect(image.convert("RGB"))
    assert faces, "expected a face"
    return faces[0].embedding  # type: ignore[return-value]


def _refs(rt: Runtime, images: list[Image.Image]) -> list[Reference]:
    return [reference_of(rt.require_analyzer(), im) for im in images]


def _tom() -> Image.Image:
    return Image.open(insightface_image("Tom_Hanks_54745.png")).convert("RGB")


def test_same_person_passes_and_other_people_do_not(runtime: Runtime) -> None:
    tom = _tom()
    refs = likeness.reference_vectors(
        _refs(runtime, [tom, ImageOps.mirror(tom)]), runtime.require_analyzer().name, 128
    )
    brighter = ImageEnhance.Brightness(tom).enhance(1.3)
    same = likeness.score_image(runtime.require_analyzer(), brighter, refs)
    assert same.face_found and same.passed and same.score is not None

    group = Image.open(insightface_image("t1.jpg")).convert("RGB")
    others = [f for f in runtime.require_analyzer().detect(group) if f.embedding is not None]
    assert len(others) >= 4
    analyzer = runtime.require_analyzer()
    scores = [likeness.score_against(analyzer, f.embedding, refs) for f in others]  # type: ignore[arg-type]
    assert max(scores) < analyzer.same_person_threshold <= same.score


@needs_shared
def test_likeness_on_shared_faces(runtime: Runtime) -> None:
    analyzer = runtime.require_analyzer()
    obama = [Image.open(FACES / "obama" / f"{i}.jpg") for i in (1, 2, 3)]
    refs = likeness.reference_vectors(_refs(runtime, obama), analyzer.name, 128)
    same = likeness.score_image(analyzer, Image.open(FACES / "obama" / "4.jpg"), refs)
    other = likeness.score_image(analyzer, Image.open(FACES / "biden" / "1.jpg"), refs)
    assert same.passed and other.face_found and not other.passed
    assert same.score is not None and other.score is not None and same.score > other.score


def test_a_blank_image_has_no_face(runtime: Runtime) -> None:
    refs = np.ones((1, 128), dtype=np.float32)
    res = likeness.score_image(runtime.require_analyzer(), Image.new("RGB", (64, 64)), refs)
    assert res == likeness.Likeness(face_found=False, score=None, passed=False)


def test_references_from_another_backend_are_refused(runtime: Runtime) -> None:
    other = [Reference(embedding=Embedding(backend="insightface:buffalo_l", vector=[0.1] * 512))]
    with pytest.raises(likeness.IdentityMismatch, match="insightface:buffalo_l"):
        likeness.reference_vectors(other, "dlib", 128)
    short = [Reference(embedding=Embedding(backend="dlib", vector=[0.1] * 64))]
    with pytest.raises(likeness.IdentityMismatch, match="64-d"):
        likeness.reference_vectors(short, "dlib", 128)


def _spy_render(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    calls: list[list[int]] = []
    real = gen.render

    def spy(*args, **kwargs):  # the real render, recording each batch's seeds
        calls.append(list(kwargs["seeds"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(gen, "render", spy)
    return calls


def test_tiny_model_no_face_ends_after_max_attempts(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.provenance import verify

    calls = _spy_render(monkeypatch)
    req = GenerateRequest(
        generation_id="g-noface",
        prompt="a portrait",
        seeds=[1, 2, 3, 4],
        references=_refs(runtime, [_tom()]),
        max_attempts=3,
    )
    result = gen.generate(runtime, req)
    # Random weights make noise, never a face: every variation is retried to the bound.
    assert len(calls) == 3 and all(len(c) == 4 for c in calls)
    assert calls[1] == [gen.retry_seed(s, 2) for s in (1, 2, 3, 4)]
    for v in result.variations:
        assert (v.passed, v.face_found, v.likeness, v.attempts) == (False, False, None, 3)
        assert verify(v.image).ai_labelled
    assert [v.seed for v in result.variations] == [1, 2, 3, 4]  # ties keep the first attempt


def test_only_failing_variations_are_rendered_again(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop's bookkeeping, with the face scorer replaced by a fixed verdict per call."""
    calls = _spy_render(monkeypatch)
    # attempt 1: slots 0 and 2 pass; attempt 2: slot 1 passes, slot 3 fails;
    # attempt 3: slot 3 fails again (with a better score than before).
    verdicts = iter([0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.4])

    def judge(self: PersonGate, image: Image.Image) -> likeness.Likeness:
        s = next(verdicts)
        return likeness.Likeness(face_found=True, score=s, passed=s >= 0.5)

    monkeypatch.setattr(PersonGate, "judge", judge)
    req = GenerateRequest(
        generation_id="g-loop",
        prompt="a portrait",
        seeds=[10, 20, 30, 40],
        references=_refs(runtime, [_tom()]),
        max_attempts=3,
    )
    result = gen.generate(runtime, req)
    r = gen.retry_seed
    assert calls == [[10, 20, 30, 40], [r(20, 2), r(40, 2)], [r(40, 3)]]
    got = [(v.seed, v.attempts, v.passed, v.likeness) for v in result.variations]
    assert got == [
        (10, 1, True, 0.9),
        (r(20, 2), 2, True, 0.7),
        (30, 1, True, 0.8),
        (r(40, 3), 3, False, 0.4),
    ]
    assert [v.regenerated_for for v in result.variations] == [
        [],
        [Verdict.NOT_ALIKE],
        [],
        [Verdict.NOT_ALIKE, Verdict.NOT_ALIKE],
    ]


def test_the_gate_reason_travels_with_each_variation(runtime: Runtime) -> None:
    """Noise from the tiny model: a photographic style redoes every variation for want of
    a face and says so; a lenient drawn style delivers it at once, unchecked."""
    refs = _refs(runtime, [_tom(), ImageOps.mirror(_tom())])
    strict = gen.generate(
        runtime,
        GenerateRequest(
            generation_id="g-reasons", prompt="a portrait", seeds=[5, 6], references=refs
        ),
    )
    for v in strict.variations:
        assert (v.verdict, v.attempts, v.passed) == (Verdict.NO_FACE, 3, False)
        assert v.regenerated_for == [Verdict.NO_FACE, Verdict.NO_FACE]
        assert v.threshold is not None and v.threshold >= 0.46
    lenient = gen.generate(
        runtime,
        GenerateRequest(
            generation_id="g-lenient",
            prompt="a pencil sketch",
            seeds=[5, 6],
            references=refs,
            gate=LikenessGate(kind=StyleKind.DRAWN, policy=GatePolicy.LENIENT, reason="drawn"),
        ),
    )
    for v in lenient.variations:
        assert (v.verdict, v.attempts, v.passed, v.regenerated_for) == (
            Verdict.UNCHECKED,
            1,
            True,
            [],
        )
