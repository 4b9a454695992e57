"""The likeness gate for two people (engine/gate_pair.py) on real photos (dlib's real models).

Two different people of ../shared/faces (obama, deepface_id01: three photos each as
references, the fourth held out) composed side by side stand in for outputs: the right
pair passes, the pair swapped (the second person on the left) is still the right pair,
a missing face, one person twice, a stranger (kit_harington) and a copy of a reference
photo fail, each with its own verdict. Photos are shrunk to 400 px: seconds in all.
"""

from __future__ import annotations

import pytest
from conftest import FACES, needs_shared
from PIL import Image, ImageOps

from engine.analysis import analyze_photo
from engine.faces.dlib_backend import DlibAnalyzer
from engine.gate import rank
from engine.gate_pair import PairGate
from engine.likeness import Likeness, reference_vectors
from sitter.contract import AnalyzePhotoRequest, GatePolicy, LikenessGate, Reference, Verdict

pytestmark = needs_shared

FIRST, SECOND, STRANGER = "obama", "deepface_id01", "kit_harington"


@pytest.fixture(scope="module")
def analyzer() -> DlibAnalyzer:
    return DlibAnalyzer()


def _references(analyzer: DlibAnalyzer, person: str) -> list[Reference]:
    out = []
    for i in (1, 2, 3):
        res = analyze_photo(
            AnalyzePhotoRequest(photo=(FACES / person / f"{i}.jpg").read_bytes()), analyzer
        )
        assert res.embedding is not None and res.face_crop is not None
        out.append(Reference(embedding=res.embedding, face_crop=res.face_crop))
    return out


@pytest.fixture(scope="module")
def people(analyzer: DlibAnalyzer) -> tuple[list[Reference], list[Reference]]:
    return _references(analyzer, FIRST), _references(analyzer, SECOND)


def _gate(
    analyzer: DlibAnalyzer,
    people: tuple[list[Reference], list[Reference]],
    policy: LikenessGate | None = None,
) -> PairGate:
    a, b = people
    return PairGate.build(
        analyzer,
        reference_vectors(a, analyzer.name, 128),
        reference_vectors(b, analyzer.name, 128),
        [r.face_crop for r in a],
        [r.face_crop for r in b],
        policy or LikenessGate(),
    )


@pytest.fixture(scope="module")
def gate(analyzer: DlibAnalyzer, people: tuple[list[Reference], list[Reference]]) -> PairGate:
    return _gate(analyzer, people)


def _photo(person: str, n: int) -> Image.Image:
    im = Image.open(FACES / person / f"{n}.jpg").convert("RGB")
    im.thumbnail((400, 400))
    return im


def _side_by_side(*pictures: Image.Image) -> Image.Image:
    """The pictures in a row on a grey canvas: a stand-in for a portrait of them."""
    canvas = Image.new(
        "RGB", (sum(p.width for p in pictures), max(p.height for p in pictures)), (180, 180, 180)
    )
    x = 0
    for p in pictures:
        canvas.paste(p, (x, 0))
        x += p.width
    return canvas


def _empty() -> Image.Image:
    return Image.new("RGB", (300, 400), (120, 120, 120))


def test_the_right_pair_passes_either_way_round(gate: PairGate) -> None:
    a, b = _photo(FIRST, 4), _photo(SECOND, 4)
    right = gate.judge(_side_by_side(a, b))
    assert right.verdict == Verdict.PASSED and right.passed and right.pair
    assert right.partner is not None and right.partner.verdict == Verdict.PASSED
    assert right.score is not None and right.score >= gate.first.threshold
    assert right.partner.score is not None and right.partner.score >= gate.second.threshold
    assert right.threshold == gate.first.threshold
    assert right.partner.threshold == gate.second.threshold
    assert right.box is None  # two faces: no single face for the face detail pass
    # Both people's faces are scored for their own person, never the best match twice.
    assert right.partner.box is not None and right.partner.box[0] >= a.width  # B on the right

    swapped = gate.judge(_side_by_side(b, a))
    assert swapped.verdict == Verdict.PASSED and swapped.passed
    assert swapped.partner is not None and swapped.partner.box is not None
    assert swapped.partner.box[2] <= b.width  # the second person found on the left
    assert abs((swapped.score or 0) - right.score) < 0.03
    assert abs((swapped.partner.score or 0) - right.partner.score) < 0.03


def test_a_missing_face_one_person_twice_a_stranger_and_a_copy_fail_by_name(
    gate: PairGate,
) -> None:
    a, b = _photo(FIRST, 4), _photo(SECOND, 4)
    right = gate.judge(_side_by_side(a, b))

    one = gate.judge(_side_by_side(a, _empty()))
    assert one.verdict == Verdict.ONE_FACE and not one.passed and one.face_found
    assert one.score is not None and one.partner is not None and one.partner.score is None

    # The first person twice (the held-out photo and its mirror image): each alone is
    # them, but the assignment gives one face to the second person, who is missing.
    twice = gate.judge(_side_by_side(a, ImageOps.mirror(a)))
    assert twice.verdict == Verdict.ONE_FACE and not twice.passed
    assert twice.partner is not None and (twice.partner.score or 0) < gate.second.threshold

    stranger = gate.judge(_side_by_side(a, _photo(STRANGER, 1)))
    assert stranger.verdict == Verdict.STRANGER and not stranger.passed
    assert stranger.partner is not None
    assert (stranger.partner.score or 0) < gate.first.calibration.same_person

    # A third face as large as theirs is a stranger in the picture too.
    crowd = gate.judge(_side_by_side(a, b, _photo(STRANGER, 2)))
    assert crowd.verdict == Verdict.STRANGER and not crowd.passed

    # A mirror image of one of the first person's reference photos beside the second.
    copy = gate.judge(_side_by_side(ImageOps.mirror(_photo(FIRST, 2)), b))
    assert copy.verdict == Verdict.COPY and not copy.passed
    assert copy.partner is not None and copy.partner.verdict == Verdict.PASSED

    nobody = gate.judge(_empty())
    assert nobody.verdict == Verdict.NO_FACE and not nobody.face_found and not nobody.passed

    # Which attempt a variation keeps: the right pair over every failure.
    for worse in (one, twice, stranger, crowd, copy, nobody):
        assert rank(right) > rank(worse), worse.verdict


def test_lenient_and_off_policies_for_two(
    analyzer: DlibAnalyzer, people: tuple[list[Reference], list[Reference]]
) -> None:
    a = _photo(FIRST, 4)
    lenient = _gate(analyzer, people, LikenessGate(policy=GatePolicy.LENIENT, reason="drawn faces"))
    missing = lenient.judge(_side_by_side(a, _empty()))
    assert missing.verdict == Verdict.UNCHECKED and missing.passed  # face models miss drawings
    assert lenient.judge(_side_by_side(a, _photo(STRANGER, 1))).verdict == Verdict.STRANGER
    off = _gate(analyzer, people, LikenessGate(policy=GatePolicy.OFF, reason="abstract"))
    scored = off.judge(_side_by_side(a, _photo(STRANGER, 1)))
    assert scored.verdict == Verdict.UNCHECKED and scored.passed and scored.score is not None


def test_rank_prefers_the_pair_whose_weaker_face_is_better() -> None:
    def pair(first: float, second: float) -> Likeness:
        partner = Likeness(True, second, False, Verdict.NOT_ALIKE, 0.5)
        return Likeness(True, first, False, Verdict.NOT_ALIKE, 0.5, pair=True, partner=partner)

    assert rank(pair(0.45, 0.44)) > rank(pair(0.70, 0.30))
