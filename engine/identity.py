"""Comparing faces: set consistency and protected-face matches.

Embeddings carry the name of the backend that made them; embeddings of another
backend are never compared (their spaces are unrelated), only skipped.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.faces.base import FaceAnalyzer
from sitter.contract import Embedding, ProtectedFace


def vector(e: Embedding) -> np.ndarray:
    return np.asarray(e.vector, np.float32)


def comparable(analyzer: FaceAnalyzer, embeddings: Sequence[Embedding]) -> list[np.ndarray]:
    return [vector(e) for e in embeddings if e.backend == analyzer.name]


def protection_threshold(analyzer: FaceAnalyzer) -> float:
    return float(getattr(analyzer, "protection_threshold", analyzer.same_person_threshold))


def similarity_to_set(analyzer: FaceAnalyzer, emb: np.ndarray, refs: Sequence[np.ndarray]) -> float:
    """The median similarity of one face to a set (robust to one odd photo in the set)."""
    return statistics.median(analyzer.similarity(emb, r) for r in refs)


@dataclass(frozen=True)
class SetCheck:
    outliers: list[int]
    medians: list[float]
    threshold: float


def majority(n: int, similar: Callable[[int, int], float], threshold: float) -> list[int] | None:
    """The photos outside the set's largest group of one person, when that group is a
    majority; None when no group is (then the caller falls back to the median rule).

    A group is a photo and every photo that looks like it (similarity at or above the
    threshold); the largest wins, ties going to the closer-knit one. So three photos
    of a friend among five of the person name the three, never the five, whichever
    came first."""
    if n < 3:
        return None
    sims = [[similar(i, j) if i != j else 1.0 for j in range(n)] for i in range(n)]
    agree = [{j for j in range(n) if j != i and sims[i][j] >= threshold} for i in range(n)]
    best = max(range(n), key=lambda i: (len(agree[i]), sum(sims[i])))
    group = agree[best] | {best}
    if 2 * len(group) <= n:
        return None
    return [i for i in range(n) if i not in group]


def check_consistency(analyzer: FaceAnalyzer, embeddings: Sequence[np.ndarray]) -> SetCheck:
    """Which photos look like someone other than the rest.

    The set is judged by its majority (:func:`majority`). Without one, each photo's
    median similarity to the others is compared with the backend's threshold; with
    two photos that disagree, both are named: there is no majority to say which one
    is right.
    """
    t = analyzer.same_person_threshold
    n = len(embeddings)
    if n < 2:
        return SetCheck([], [1.0] * n, t)
    medians = [
        similarity_to_set(analyzer, e, [o for j, o in enumerate(embeddings) if j != i])
        for i, e in enumerate(embeddings)
    ]
    odd = majority(n, lambda i, j: analyzer.similarity(embeddings[i], embeddings[j]), t)
    if odd is not None:
        return SetCheck(odd, medians, t)
    outliers = [i for i, m in enumerate(medians) if m < t]
    if n > 2 and len(outliers) > n // 2:
        # No majority looks alike: name the ones furthest from the rest only.
        worst = min(medians)
        outliers = [i for i, m in enumerate(medians) if m == worst]
    return SetCheck(outliers, medians, t)


def protected_match(
    analyzer: FaceAnalyzer, emb: np.ndarray, protected: Sequence[ProtectedFace]
) -> tuple[int, float] | None:
    """The best-matching protected face at or above the protection threshold."""
    best: tuple[int, float] | None = None
    threshold = protection_threshold(analyzer)
    for p in protected:
        if p.embedding.backend != analyzer.name:
            continue
        s = analyzer.similarity(emb, vector(p.embedding))
        if s >= threshold and (best is None or s > best[1]):
            best = (p.id, s)
    return best


def protected_references(
    analyzer: FaceAnalyzer, embeddings: Sequence[Embedding], protected: Sequence[ProtectedFace]
) -> list[tuple[int, int]]:
    """(index, protected face id) for each embedding that matches a protected face."""
    found = []
    for i, e in enumerate(embeddings):
        if e.backend != analyzer.name:
            continue
        match = protected_match(analyzer, vector(e), protected)
        if match is not None:
            found.append((i, match[0]))
    return found
