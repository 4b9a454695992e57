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
    # False when no person has a majority of the set: then the outliers are everyone but
    # the person of the earliest photos (a set never holds two people).
    majority: bool = True


@dataclass(frozen=True)
class OnePerson:
    """Which photos :func:`one_person` names, and whether a majority decided it."""

    outliers: list[int]
    majority: bool


def majority(n: int, similar: Callable[[int, int], float], threshold: float) -> list[int] | None:
    """The photos outside the set's largest group of one person, when that group is a
    majority; None when no group is (see :func:`one_person` for what happens then).

    A group (:func:`_groups`) is a photo and the photos that look like it and like most
    of the group; the largest wins, ties going to the closer-knit one. So three photos
    of a friend among five of the person name the three, never the five, whichever
    came first; and a "bridge" (a morph half one person, half another) never joins two
    people into one group."""
    if n < 3:
        return None
    sims, agree = _agreement(n, similar, threshold)
    groups = _groups(n, agree)
    best = max(range(n), key=lambda i: (len(groups[i]), sum(sims[i])))
    if 2 * len(groups[best]) <= n:
        return None
    return [i for i in range(n) if i not in groups[best]]


def one_person(n: int, similar: Callable[[int, int], float], threshold: float) -> OnePerson:
    """The photos that are not of the set's one person (indexes in upload order).

    With a majority (:func:`majority`) the majority's person is kept. Without one (four
    photos of one person, then four of another) the largest group is kept, and of groups
    of one size the one with the earliest photo: the person the set began with. Two
    photos that disagree are both named: a set of two has no first person to trust yet."""
    if n < 2:
        return OnePerson([], True)
    if n == 2:
        same = similar(0, 1) >= threshold
        return OnePerson([] if same else [0, 1], same)
    odd = majority(n, similar, threshold)
    if odd is not None:
        return OnePerson(odd, True)
    sims, agree = _agreement(n, similar, threshold)
    groups = _groups(n, agree)
    best = max(range(n), key=lambda i: (len(groups[i]), -min(groups[i]), sum(sims[i])))
    return OnePerson([i for i in range(n) if i not in groups[best]], False)


def _groups(n: int, agree: list[set[int]]) -> list[set[int]]:
    """For each photo, its group: the photo and those that look like it, less any member
    that does not look like most of the others (the weakest goes first, of equals the
    later photo), less any bridge: a member that also looks like a photo outside the
    group (half one person, half another: it would make two people one group)."""
    groups = []
    for i in range(n):
        group = agree[i] | {i}
        while len(group) > 2:
            ties = [(len(agree[m] & group), -m) for m in group]
            links, neg = min(ties)
            if 2 * links > len(group) - 1:
                break  # every member looks like most of the others
            group.discard(-neg)
        bridges = {m for m in group if agree[m] - group}
        groups.append(group - bridges if group - bridges else {i})
    return groups


def _agreement(
    n: int, similar: Callable[[int, int], float], threshold: float
) -> tuple[list[list[float]], list[set[int]]]:
    sims = [[similar(i, j) if i != j else 1.0 for j in range(n)] for i in range(n)]
    agree = [{j for j in range(n) if j != i and sims[i][j] >= threshold} for i in range(n)]
    return sims, agree


def check_consistency(analyzer: FaceAnalyzer, embeddings: Sequence[np.ndarray]) -> SetCheck:
    """Which photos look like someone other than the set's one person (:func:`one_person`),
    with each photo's median similarity to the others."""
    t = analyzer.same_person_threshold
    n = len(embeddings)
    if n < 2:
        return SetCheck([], [1.0] * n, t)
    medians = [
        similarity_to_set(analyzer, e, [o for j, o in enumerate(embeddings) if j != i])
        for i, e in enumerate(embeddings)
    ]
    kept = one_person(n, lambda i, j: analyzer.similarity(embeddings[i], embeddings[j]), t)
    return SetCheck(kept.outliers, medians, t, kept.majority)


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
