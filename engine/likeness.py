"""Does an output look like the person in the references?

Each output is run through the same face analyzer as the reference photos. Its
largest face is embedded and compared with every reference embedding using the
analyzer's own ``similarity`` (0..1); the **score is the mean of the top-k
similarities** (k = 3, or fewer references). Top-k rather than the centroid or
the single best match: one odd reference photo can neither carry a bad output
nor sink a good one. A variation passes when the score reaches the analyzer's
``same_person_threshold`` (calibrated per backend). No face -> score ``None``,
not passed.

This is the plain scorer. Generation judges its outputs with
:class:`engine.gate.PersonGate`, which sets the bar per person and per kind of
style and also catches near copies of a reference photo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from engine.faces.base import FaceAnalyzer
from sitter.contract import ColourCheck, FailureCode, Reference, Verdict

TOP_K = 3


class IdentityMismatch(ValueError):
    """References embedded by another face backend (or of another size) than this worker's."""

    failure_code = FailureCode.IDENTITY_MISMATCH  # the job's answer (engine/job_errors.py)


@dataclass(frozen=True)
class Likeness:
    face_found: bool
    score: float | None  # None when no face was found
    passed: bool
    # Set by engine.gate.PersonGate; the plain scorer leaves them empty.
    verdict: Verdict | None = None
    threshold: float | None = None
    closest: float | None = None  # the highest similarity to any one reference
    pixels: float | None = None  # the aligned crop's highest correlation with a reference crop
    box: tuple[int, int, int, int] | None = None  # the scored face (the face detail pass's crop)
    # A two-person order (engine/gate_pair.py): the fields above are the first person's
    # (or, for a verdict on the whole picture, what was found), ``partner`` the second's.
    pair: bool = False
    partner: Likeness | None = None
    colour: ColourCheck | None = None  # a pet's coat colours against the references'


def reference_vectors(
    references: Sequence[Reference], backend: str, dim: int | None = None
) -> np.ndarray:
    """The references' embeddings as an (n, d) array, checked against this worker's backend."""
    vectors = []
    for i, ref in enumerate(references):
        emb = ref.embedding
        if emb.backend != backend:
            raise IdentityMismatch(
                f"reference {i} was embedded by {emb.backend!r} but this worker's face "
                f"backend is {backend!r}: analyse the photos again with this worker"
            )
        if dim is not None and len(emb.vector) != dim:
            raise IdentityMismatch(
                f"reference {i} has a {len(emb.vector)}-d embedding; {backend} makes {dim}-d ones"
            )
        vectors.append(np.asarray(emb.vector, dtype=np.float32))
    if not vectors:
        raise IdentityMismatch("no reference embeddings")
    return np.stack(vectors)


def score_against(analyzer: FaceAnalyzer, embedding: np.ndarray, refs: np.ndarray) -> float:
    """Mean of the top-k similarities of ``embedding`` to the reference embeddings."""
    sims = sorted((analyzer.similarity(embedding, r) for r in refs), reverse=True)
    top = sims[: min(TOP_K, len(sims))]
    return float(sum(top) / len(top))


def score_image(analyzer: FaceAnalyzer, image: Image.Image, refs: np.ndarray) -> Likeness:
    """Likeness of the largest face in ``image`` to the references."""
    faces = [f for f in analyzer.detect(image.convert("RGB")) if f.embedding is not None]
    if not faces:
        return Likeness(face_found=False, score=None, passed=False)
    embedding = faces[0].embedding
    assert embedding is not None  # only faces with one were kept
    score = score_against(analyzer, embedding, refs)
    passed = score >= analyzer.same_person_threshold
    return Likeness(face_found=True, score=score, passed=passed, box=faces[0].box)
