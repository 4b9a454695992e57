"""Face protection on ../shared/faces with the dlib backend: how often a protected
person still gets through (false accept) and how often someone else is refused
(false refuse).

Leave-one-out: each identity photo in turn is the protected face (one embedding,
as after ``/protect`` with a selfie); every other photo of the same person is a
later upload that must be refused, and every photo of everyone else is one that
must be accepted. The match rule is the engine's: similarity to a protected
embedding at or above the analyzer's ``same_person_threshold``.

A second pass protects the way a moderator's "protect this face" does: all of
the person's photos but the test one are protected (the owner's reference set),
and the left-out photo is the upload.

    .venv/bin/python benchmarks/bench_protection.py [--faces ../shared/faces]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SKIP = {"group", "noface"}


def embed_all(folder: Path) -> tuple[dict[str, list[tuple[str, np.ndarray]]], list[str], object]:
    from engine.faces.dlib_backend import DlibAnalyzer

    analyzer = DlibAnalyzer()
    people: dict[str, list[tuple[str, np.ndarray]]] = {}
    unusable: list[str] = []
    for person in sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in SKIP):
        for photo in sorted(person.glob("*.jpg")):
            with Image.open(photo) as im:
                image = ImageOps.exif_transpose(im).convert("RGB")
            faces = analyzer.detect(image)
            name = f"{person.name}/{photo.name}"
            if len(faces) != 1 or faces[0].embedding is None:
                unusable.append(f"{name} ({len(faces)} faces)")  # the intake refuses these
                continue
            people.setdefault(person.name, []).append((name, faces[0].embedding))
    return people, unusable, analyzer


def rates(people, analyzer, threshold: float, moderator: bool) -> tuple[int, int, int, int, list]:
    """(false accepts, same-person trials, false refuses, other-person trials, examples)."""
    fa = fr = same_n = other_n = 0
    examples = []
    flat = [(p, n, e) for p, items in people.items() for n, e in items]
    for person, items in people.items():
        for i, (name, emb) in enumerate(items):
            if moderator:  # protect the rest of the set, upload the left-out photo
                protected = [e for j, (_, e) in enumerate(items) if j != i]
                uploads_same = [(name, emb)]
            else:  # protect this one photo, upload the person's others
                protected = [emb]
                uploads_same = [(n, e) for j, (n, e) in enumerate(items) if j != i]
            if not protected:
                continue
            for n, e in uploads_same:
                same_n += 1
                best = max(analyzer.similarity(e, p) for p in protected)
                if best < threshold:
                    fa += 1
                    examples.append(f"accepted {n} (best {best:.2f})")
            for p2, n2, e2 in flat:
                if p2 == person:
                    continue
                other_n += 1
                best = max(analyzer.similarity(e2, p) for p in protected)
                if best >= threshold:
                    fr += 1
                    examples.append(f"refused {n2} against {person} (best {best:.2f})")
    return fa, same_n, fr, other_n, examples


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    args = ap.parse_args()
    if not args.faces.is_dir():
        print(f"no test photos at {args.faces}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    people, unusable, analyzer = embed_all(args.faces)
    took = time.perf_counter() - t0
    n = sum(len(v) for v in people.values())
    default = analyzer.same_person_threshold  # type: ignore[attr-defined]
    print(f"dlib backend, threshold {default:.2f} (similarity = 1 - distance / 1.2)")
    print(f"{n} usable photos of {len(people)} people, embedded in {took:.1f} s")
    if unusable:
        print("not one face (refused at intake, left out): " + ", ".join(unusable))
    for moderator in (False, True):
        mode = "moderator: protect the rest of the set" if moderator else "self: protect one photo"
        print(f"\n{mode}")
        print("threshold  false-accept          false-refuse")
        for th in sorted({0.40, 0.45, default, 0.55, 0.60}):
            fa, sn, fr, on, ex = rates(people, analyzer, th, moderator)
            mark = "  <- engine default" if th == default else ""
            print(
                f"  {th:.2f}    {fa:3d}/{sn:<4d} = {fa / sn:6.1%}    "
                f"{fr:4d}/{on:<5d} = {fr / on:6.2%}{mark}"
            )
            if th == default and ex:
                print("    " + "\n    ".join(ex[:12]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
