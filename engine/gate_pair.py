"""The likeness gate for a portrait of two people ("Together", issue 24).

Each person keeps their own gate (engine/gate.py: their own bar, their own copy check);
this one decides which face in the picture is whose and what the picture as a whole is:

- **Two faces, one each.** The largest faces (up to :data:`MAX_FACES`) are scored
  against both people, and the faces are *assigned*: of every pairing (face i to the
  first person, face j to the second, i != j) the one with the best total similarity
  wins. So a swapped pair (the second person on the left) is still the right pair, and
  one person painted twice cannot pass as both: the second face must go to the other
  person and is judged against them.
- **What fails, and how it is called** (:class:`~sitter.contract.Verdict`):
  ``no_face`` (no face at all) and ``one_face`` (one face, or one person twice and the
  other missing); ``copy`` (either face is a near copy of one of that person's photos);
  ``stranger`` (a face that is neither person: under the face model's own same-person
  line for the person it was given to and for the other, or a third face about as large
  as theirs); ``not_alike`` (the person is there but under their own bar). Each is
  rendered again like a one-person miss.
- **Policies** as for one person: ``lenient`` judges by the kind's lenient floor and
  delivers a picture where fewer than two faces were found unchecked (face models miss
  drawn faces); ``off`` scores for information only.

The verdict is a :class:`~engine.likeness.Likeness` whose own fields are the first
person's and whose ``partner`` is the second person's (``Variation.partner_similarity``).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from engine.faces.base import Face, FaceAnalyzer
from engine.gate import CROP_SIDE, PersonGate, grey_crop
from engine.likeness import Likeness
from engine.near_duplicate import face_print
from sitter.contract import GatePolicy, GenerateRequest, LikenessGate, Subject, Verdict

MAX_FACES = 4  # the largest faces considered for the two people
# A face beside the two people's counts as a third person (a stranger) when its box is at
# least this share of the smaller of their boxes' areas; smaller ones are background.
THIRD_FACE_SHARE = 0.5


def check_two_people(req: GenerateRequest) -> None:
    """A portrait of two is of two people, each by their own photos: not of a pet, and
    not through one person's personal model (it would give both faces their likeness)."""
    if req.subject != Subject.PERSON:
        raise ValueError("a portrait of two is of two people: a pet's order takes no partner")
    if req.personal is not None:
        raise ValueError(
            "a portrait of two cannot use one person's personal model (it would give both "
            "faces that person's likeness): order it without the personal model"
        )


def check_two_faces(analyzer: FaceAnalyzer, req: GenerateRequest) -> None:
    """Two different people: no photo of the second person may show the first one's face
    (one person's second account), at the protection threshold; a bad request."""
    from engine.identity import protected_references
    from sitter.contract import ProtectedFace

    first = [ProtectedFace(id=i, embedding=r.embedding) for i, r in enumerate(req.references)]
    second = [r.embedding for r in req.partner_references]
    if protected_references(analyzer, second, first):
        raise ValueError(
            "the two people's photos show the same face: a portrait of two is of two "
            "different people, each painted from their own photos"
        )


@dataclass(frozen=True)
class _Seen:
    """One face of the picture as the gates read it."""

    face: Face
    embedding: np.ndarray
    crop: np.ndarray | None
    printed: np.ndarray | None

    @property
    def area(self) -> int:
        return max(self.face.width, 0) * max(self.face.height, 0)


@dataclass
class PairGate:
    """The gate for one order of two people: build once, then :meth:`judge` each output."""

    first: PersonGate
    second: PersonGate

    @classmethod
    def build(
        cls,
        analyzer: FaceAnalyzer,
        first_refs: np.ndarray,
        second_refs: np.ndarray,
        first_crops: Sequence[Image.Image | bytes | None] = (),
        second_crops: Sequence[Image.Image | bytes | None] = (),
        policy: LikenessGate | None = None,
    ) -> PairGate:
        return cls(
            PersonGate.build(analyzer, first_refs, first_crops, policy),
            PersonGate.build(analyzer, second_refs, second_crops, policy),
        )

    @property
    def policy(self) -> LikenessGate:
        return self.first.policy

    @property
    def analyzer(self) -> FaceAnalyzer:
        return self.first.analyzer

    # --- judging -----------------------------------------------------------------------
    def judge(self, image: Image.Image) -> Likeness:
        """The verdict on one output image: both people, each once, each alike."""
        image = image.convert("RGB")
        found = [f for f in self.analyzer.detect(image) if f.embedding is not None]
        return self.judge_faces(image, found[:MAX_FACES])

    def judge_faces(self, image: Image.Image, faces: Sequence[Face]) -> Likeness:
        seen = [self._seen(image, f) for f in faces]
        if len(seen) < 2:
            return self._too_few(seen)
        (i, a), (j, b) = self._assign(seen)
        extra = [s for k, s in enumerate(seen) if k not in (i, j)]
        verdict = self._verdict(a, b, seen[i], seen[j], extra)
        return self._pair(a, b, verdict)

    def _seen(self, image: Image.Image, face: Face) -> _Seen:
        assert face.embedding is not None  # only faces with one are judged
        crop = printed = None
        if any(c is not None for c in (*self.first.crops, *self.second.crops)):
            aligned = self.analyzer.aligned_crop(image, face, CROP_SIDE)
            crop, printed = grey_crop(aligned), face_print(aligned)
        return _Seen(face, face.embedding, crop, printed)

    def _assign(self, seen: Sequence[_Seen]) -> tuple[tuple[int, Likeness], tuple[int, Likeness]]:
        """The faces for the first and the second person: the pairing with the best total
        (not each person's best face: that could be one face twice)."""
        firsts = [self.first.judge_face(s.embedding, s.crop, s.printed) for s in seen]
        seconds = [self.second.judge_face(s.embedding, s.crop, s.printed) for s in seen]
        i, j = max(
            itertools.permutations(range(len(seen)), 2),
            key=lambda ij: (_score(firsts[ij[0]]) + _score(seconds[ij[1]]), -ij[0], -ij[1]),
        )
        return (i, dataclasses.replace(firsts[i], box=seen[i].face.box)), (
            j,
            dataclasses.replace(seconds[j], box=seen[j].face.box),
        )

    def _verdict(
        self, a: Likeness, b: Likeness, face_a: _Seen, face_b: _Seen, extra: Sequence[_Seen]
    ) -> Verdict:
        if self.policy.policy == GatePolicy.OFF:
            return Verdict.UNCHECKED
        if Verdict.COPY in (a.verdict, b.verdict):
            return Verdict.COPY
        line = self.first.calibration.same_person  # the face model's own "same person"
        if self._twice(a, face_a, self.second, line) or self._twice(b, face_b, self.first, line):
            return Verdict.ONE_FACE  # one person twice: the other is missing
        for lk in (a, b):
            if not lk.passed and (lk.score is None or lk.score < line):
                return Verdict.STRANGER
        smaller = min(face_a.area, face_b.area)
        if any(s.area >= THIRD_FACE_SHARE * smaller for s in extra):
            return Verdict.STRANGER  # a third person in the picture
        if not (a.passed and b.passed):
            return Verdict.NOT_ALIKE
        return Verdict.PASSED

    @staticmethod
    def _twice(lk: Likeness, face: _Seen, other: PersonGate, line: float) -> bool:
        """The face given to ``lk``'s person is not them but the other person (``other``):
        that person painted twice, this one missing."""
        if lk.passed or (lk.score is not None and lk.score >= line):
            return False
        again = other.judge_face(face.embedding)
        return again.score is not None and again.score >= max(line, other.bar() or line)

    def _pair(self, a: Likeness, b: Likeness, verdict: Verdict) -> Likeness:
        passed = verdict in (Verdict.PASSED, Verdict.UNCHECKED)
        return Likeness(
            face_found=True,
            score=a.score,
            passed=passed,
            verdict=verdict,
            threshold=a.threshold,
            closest=a.closest,
            pixels=a.pixels,
            box=None,  # two faces: no one face for the face detail pass
            pair=True,
            partner=b,
        )

    def _too_few(self, seen: Sequence[_Seen]) -> Likeness:
        """No face or one face: redone under ``threshold`` (no_face / one_face); delivered
        unchecked under ``lenient`` and ``off``. A single face is scored for whoever it
        is more like, for the record."""
        checked = self.policy.policy == GatePolicy.THRESHOLD
        a = b = None
        if seen:
            s = seen[0]
            la = self.first.judge_face(s.embedding, s.crop, s.printed)
            lb = self.second.judge_face(s.embedding, s.crop, s.printed)
            if _score(la) >= _score(lb):
                a = la
            else:
                b = lb
        verdict = Verdict.UNCHECKED
        if checked:
            verdict = Verdict.ONE_FACE if seen else Verdict.NO_FACE
        missing = Likeness(False, None, False, None, self.second.bar() if checked else None)
        return Likeness(
            face_found=bool(seen),
            score=a.score if a else None,
            passed=not checked,
            verdict=verdict,
            threshold=self.first.bar() if checked else None,
            closest=a.closest if a else None,
            pair=True,
            partner=b or missing,
        )


def _score(lk: Likeness) -> float:
    return lk.score if lk.score is not None else -1.0
