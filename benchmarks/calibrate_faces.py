"""Calibrate the face checks on real photos (../shared/faces).

Prints, for one backend (dlib by default: no download):
1. every photo's quality measures and verdict, plus degraded copies (blurred,
   darkened, overexposed) that should fail, so the thresholds in
   engine/quality.py can be placed between the two;
2. all same-person and different-person similarities, the backend's
   threshold, and the false accepts / false rejects at that threshold.

    .venv/bin/python benchmarks/calibrate_faces.py [--faces ../shared/faces] [--backend dlib]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from pathlib import Path

from PIL import Image, ImageEnhance, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.intake import decode_photo  # noqa: E402
from engine.quality import assess, thresholds_for  # noqa: E402


def degraded(image: Image.Image, face_width: int) -> dict[str, Image.Image]:
    return {
        "blurred": image.filter(ImageFilter.GaussianBlur(radius=max(2.0, face_width / 40))),
        "dark": ImageEnhance.Brightness(image).enhance(0.25),
        "bright": ImageEnhance.Brightness(image).enhance(2.6),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    ap.add_argument("--backend", default="dlib")
    args = ap.parse_args()
    if not args.faces.is_dir():
        print(f"no photos at {args.faces}")
        return 1
    from engine.faces import load_analyzer
    from sitter.config import load_settings

    analyzer = load_analyzer(load_settings(face_backend=args.backend))
    print(f"backend {analyzer.name}, same-person threshold {analyzer.same_person_threshold}\n")
    print(f"{'photo':28} {'verdict':32} measures")
    embeddings: dict[str, list] = {}
    worst = {"blurred": [], "dark": [], "bright": []}
    for path in sorted(args.faces.glob("*/*.jpg")):
        name = f"{path.parent.name}/{path.name}"
        photo = decode_photo(path.read_bytes())
        faces = analyzer.detect(photo.image)
        v = assess(photo.image, faces, thresholds_for(analyzer.name))
        verdict = "ok" if v.accepted else ",".join(i.problem.value for i in v.issues)
        print(f"{name:28} {verdict:32} {v.measures}")
        if v.main is not None and v.main.embedding is not None and v.face_count == 1:
            embeddings.setdefault(path.parent.name, []).append((name, v.main.embedding))
            if path.parent.name not in ("group", "noface"):
                for kind, img in degraded(photo.image, v.main.width).items():
                    dv = assess(img, analyzer.detect(img), thresholds_for(analyzer.name))
                    problems = ",".join(i.problem.value for i in dv.issues) or "ok"
                    worst[kind].append(problems)
                    print(f"{'  ' + kind:28} {problems:32} {dv.measures}")
    print("\ndegraded copies refused:")
    for kind, results in worst.items():
        refused = sum(r != "ok" for r in results)
        print(f"  {kind:8} {refused}/{len(results)}")

    people = {k: v for k, v in embeddings.items() if k not in ("group", "noface")}
    same, diff = [], []
    worst_same, worst_diff = (1.0, ""), (0.0, "")
    for items in people.values():
        for (na, a), (nb, b) in itertools.combinations(items, 2):
            same.append(analyzer.similarity(a, b))
            worst_same = min(worst_same, (same[-1], f"{na} ~ {nb}"))
    for i1, i2 in itertools.combinations(people.values(), 2):
        for (na, a), (nb, b) in itertools.product(i1, i2):
            diff.append(analyzer.similarity(a, b))
            worst_diff = max(worst_diff, (diff[-1], f"{na} ~ {nb}"))
    t = analyzer.same_person_threshold
    print(
        f"\nsame person:      n={len(same):4} min {min(same):.3f} "
        f"median {statistics.median(same):.3f} max {max(same):.3f}"
    )
    print(
        f"different people: n={len(diff):4} min {min(diff):.3f} "
        f"median {statistics.median(diff):.3f} max {max(diff):.3f}"
    )
    print(f"least alike same-person pair:  {worst_same[1]} ({worst_same[0]:.3f})")
    print(f"most alike different people:   {worst_diff[1]} ({worst_diff[0]:.3f})")
    print(f"midpoint of the gap: {(min(same) + max(diff)) / 2:.3f}")
    fr = sum(s < t for s in same)
    fa = sum(d >= t for d in diff)
    print(
        f"threshold {t}: false rejects {fr}/{len(same)}, false accepts {fa}/{len(diff)}, "
        f"gap {min(same) - max(diff):+.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
