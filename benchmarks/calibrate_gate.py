"""Calibrate the likeness gate per kind of style on real photos (../shared/faces).

Real photos stand in for outputs (engine/gate_calibration.py): leave-one-out, a
gate built from a person's other photos judges the held-out photo and OpenCV
drawings of it (painted: cv2.stylization, 2-bit posterize; drawn:
cv2.pencilSketch grey and colour), other people's photos and drawings, and
flipped, cropped and re-compressed copies of its references. It prints, per kind
and under the policy the styles in prompts/styles/ give that kind (and under a
plain threshold for comparison): faces found, the person's pass rate (and under
today's fixed backend threshold), other people's false accepts, copies caught and
real photos wrongly called copies. About two minutes with dlib on two cores.

    .venv/bin/python benchmarks/calibrate_gate.py [--faces ../shared/faces] [--backend dlib]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.gate import calibration_for  # noqa: E402
from engine.gate_calibration import evaluate, load_photos  # noqa: E402
from sitter.contract import GatePolicy, StyleKind  # noqa: E402
from sitter.prompts import PromptLibrary  # noqa: E402


def style_policies() -> dict[StyleKind, set[GatePolicy]]:
    out: dict[StyleKind, set[GatePolicy]] = {k: set() for k in StyleKind}
    for style in PromptLibrary.load().styles.values():
        out[style.likeness.kind].add(style.likeness.policy)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    ap.add_argument("--backend", default="dlib")
    args = ap.parse_args()
    if not args.faces.is_dir():
        print(f"no photos at {args.faces}")
        return 1
    from engine.faces import load_analyzer
    from sitter.config import load_settings

    analyzer = load_analyzer(load_settings(face_backend=args.backend))
    cal = calibration_for(analyzer)
    started = time.perf_counter()
    photos = load_photos(analyzer, args.faces)
    print(
        f"backend {analyzer.name} (same-person threshold {analyzer.same_person_threshold}, "
        f"gate {'calibrated' if cal.calibrated else 'NOT calibrated: scaled from dlib'}); "
        f"{len(photos)} photos of {len({p.person for p in photos})} people, "
        f"faces and variants embedded in {time.perf_counter() - started:.0f}s"
    )

    def figures(d: dict) -> str:
        return ", ".join(f"{k.value} {v}" for k, v in d.items())

    print(f"bars: {figures(cal.kinds)}; lenient floors {figures(cal.lenient_floor)}")
    print(f"spread margins {figures(cal.spread_margin)}, raised at most {cal.max_raise}")
    print(
        f"copy: similarity >= max({cal.copy_floor}, closest peer + {cal.copy_margin}) "
        f"or aligned-crop correlation >= {cal.pixel_copy}\n"
    )
    used = style_policies()
    for kind in StyleKind:
        policies = sorted(used[kind] | {GatePolicy.THRESHOLD})
        for policy in policies:
            r = evaluate(analyzer, photos, kind, policy)
            styles = "styles use it" if policy in used[kind] else "for comparison"
            bars = r.thresholds
            print(
                f"== {kind.value} under {policy.value} ({styles}); person's bar "
                f"{min(bars):.2f}-{max(bars):.2f} (median {statistics.median(bars):.2f})"
            )
            for proxy in r.same:
                line = (
                    f"   {proxy:14} face found {r.found[proxy]!s:12} person passes "
                    f"{r.same[proxy]!s:12} (fixed {analyzer.same_person_threshold}: "
                    f"{r.same_fixed[proxy]!s:12}) other people pass {r.other.get(proxy, '-')!s}"
                )
                print(line)
            if kind == StyleKind.PHOTOGRAPHIC:
                for copy, rate in r.copies.items():
                    print(f"   copy {copy:9} caught as a copy {rate}")
                print(f"   real held-out photos called a copy {r.false_copy}")
            print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
