"""Measure the face prints ("the same picture") on real photos: the engine's
(engine/near_duplicate.py, numpy, used by the likeness gate) and the bot's
(sitter/face_print.py, plain Python, used on uploads).

    python benchmarks/calibrate_same_picture.py [../shared/faces] [--quick]

Every photo of every person (dlib, the engine's aligned crop) and lightly edited copies
of it (engine/gate_calibration.COPIES: crop right 18%, rotate 9 degrees, gamma + crop
top 15%, grey border + shift, Gaussian blur radius 2, mirror + JPEG q20, flipped,
cropped, JPEG q30). It prints

for each print:

- at the shipped bar (``FACE_BAR``): the share of copies caught, per edit, and the false
  positives among distinct photos of one person and of different people;
- held out: the people split in two halves; a bar chosen on one half (midway between its
  closest distinct photos and its least alike copy) judged on the other, both ways.

``--quick``: three people, photos shrunk to 800 px, four edits (a test runs it).
Exit status 0 when the shipped bar catches every copy with no false positive.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collections.abc import Callable
from typing import Any

import sitter.face_print as bot_print
from engine import near_duplicate as engine_print
from engine.gate_calibration import COPIES, Photo, load_photos

PRINTS: dict[str, tuple[Callable[[Any], Any], Callable[[Any, Any], float], float]] = {
    "engine": (
        engine_print.face_print,
        engine_print.face_print_similarity,
        engine_print.FACE_BAR,
    ),
    "bot": (bot_print.face_print, bot_print.similarity, bot_print.FACE_BAR),
}

QUICK_PEOPLE = ("obama", "deepface_id01", "deepface_id03")
QUICK_EDITS = ("crop right 18%", "rotate 9", "blur r2", "mirror + jpeg q20")


@dataclass
class Scores:
    same: list[float]  # distinct photos of one person
    other: list[float]  # photos of different people
    copies: dict[str, list[float]]  # per edit: a copy against its original


def photos_of(folder: Path, quick: bool) -> tuple[list[Photo], tuple[str, ...]]:
    from engine.faces.dlib_backend import DlibAnalyzer

    edits = QUICK_EDITS if quick else tuple(COPIES)
    photos = load_photos(
        DlibAnalyzer(),
        folder,
        edits,
        QUICK_PEOPLE if quick else None,
        max_side=800 if quick else 1200,
    )
    return photos, edits


def scores(photos: list[Photo], edits: tuple[str, ...], kind: str) -> dict[str, Scores]:
    """Per person: the print similarities (pairs are counted under both people)."""
    face_print, face_print_similarity, _ = PRINTS[kind]
    prints = {
        (p.person, p.name): {
            k: face_print(v.crop) if v is not None else None for k, v in p.variants.items()
        }
        for p in photos
        if p.variants["photo"] is not None
    }
    out: dict[str, Scores] = {}
    for (person, _), variants in prints.items():
        s = out.setdefault(person, Scores([], [], {}))
        original = variants["photo"]
        assert original is not None
        for edit in edits:
            copy = variants.get(edit)
            if copy is not None:  # a copy without a face is no copy the check could see
                s.copies.setdefault(edit, []).append(face_print_similarity(original, copy))
    for (a, pa), (b, pb) in combinations(prints.items(), 2):
        x, y = pa["photo"], pb["photo"]
        assert x is not None and y is not None
        sim = face_print_similarity(x, y)
        if a[0] == b[0]:
            out[a[0]].same.append(sim)
        else:
            out[a[0]].other.append(sim)
    return out


def _rate(hits: int, total: int) -> str:
    return f"{hits}/{total} ({100.0 * hits / total if total else 0:.0f}%)"


def report(people: dict[str, Scores], bar: float) -> tuple[int, int, int, int, int, int]:
    """(copies caught, copies, same-person false positives, pairs, others', pairs)."""
    copies = [v for s in people.values() for vs in s.copies.values() for v in vs]
    same = [v for s in people.values() for v in s.same]
    other = [v for s in people.values() for v in s.other]
    return (
        sum(v >= bar for v in copies),
        len(copies),
        sum(v >= bar for v in same),
        len(same),
        sum(v >= bar for v in other),
        len(other),
    )


def bar_for(people: dict[str, Scores]) -> float:
    """Midway between the closest distinct photos and the least alike copy."""
    distinct = max(v for s in people.values() for v in [*s.same, *s.other])
    copy = min(v for s in people.values() for vs in s.copies.values() for v in vs)
    return round((distinct + copy) / 2, 3)


def main(folder: Path, quick: bool) -> int:
    photos, edits = photos_of(folder, quick)
    ok = True
    for kind in PRINTS:
        ok &= report_kind(scores(photos, edits, kind), kind)
    return 0 if ok else 1


def report_kind(people: dict[str, Scores], kind: str) -> bool:
    FACE_BAR = PRINTS[kind][2]
    edits = sorted({e for s in people.values() for e in s.copies})
    print(f"== the {kind}'s face print: {len(people)} people; FACE_BAR = {FACE_BAR}")
    for edit in edits:
        vals = [v for s in people.values() for v in s.copies.get(edit, [])]
        caught = sum(v >= FACE_BAR for v in vals)
        print(f"  {edit:22s} caught {_rate(caught, len(vals))}, least alike {min(vals):.3f}")
    caught, n, fp_same, n_same, fp_other, n_other = report(people, FACE_BAR)
    same_max = max((v for s in people.values() for v in s.same), default=float("nan"))
    print(f"copies caught: {_rate(caught, n)}")
    print(f"distinct photos of one person called the same picture: {_rate(fp_same, n_same)}")
    print(f"  (closest distinct photos of one person: {same_max:.3f})")
    print(f"photos of different people called the same picture: {_rate(fp_other, n_other)}")
    names = sorted(people)
    halves = (names[0::2], names[1::2])
    for fit, held in (halves, halves[::-1]):
        if not fit or not held:
            continue
        bar = bar_for({p: people[p] for p in fit})
        c, cn, fs, fsn, _, _ = report({p: people[p] for p in held}, bar)
        print(
            f"held out: bar {bar:.3f} from {', '.join(fit)}; on {', '.join(held)}: copies "
            f"caught {_rate(c, cn)}, same-person false positives {_rate(fs, fsn)}"
        )
    ok = caught == n and fp_same == 0 and fp_other == 0
    print("the bar separates copies from distinct photos" if ok else "the bar DOES NOT separate")
    return ok


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    default = Path(__file__).resolve().parents[1].parent / "shared" / "faces"
    sys.exit(main(Path(args[0]) if args else default, "--quick" in sys.argv))
