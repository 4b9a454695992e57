"""Photo analysis time per photo on ONE CPU core, per face backend.

What is timed is :func:`engine.analysis.analyze_photo`, the bot's job: decode,
detect, quality, embed, aligned crop. Photos: the identity photos of
../shared/faces (or skimage's astronaut when they are absent). The process is
pinned to one core and every thread pool is set to one thread before the
libraries load.

First, side by side with **raw dlib** (decode, HOG detector with one upsample on
the full photo, 5-point landmarks, ResNet embedding: what a plain dlib script
does), photo by photo in turn so a busy machine slows both alike; it prints both
medians and the ratio (the goal: at most 0.35), and how many photos needed the
detector's closer or thorough look. Then each backend alone, the output safety
check's time per photo, and the intake's worst case (a photo at the pixel limit).

``--verdicts FILE`` writes every photo's verdict in ../shared/faces and
../shared/bad-images as JSON; ``--compare FILE`` says which differ from a file
written before a change (the calibration must not move).

    .venv/bin/python benchmarks/bench_analysis.py [--repeat 2] [--faces ../shared/faces]
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "ORT_NUM_THREADS"):
    os.environ[var] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import io  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.analysis import analyze_photo  # noqa: E402
from sitter.config import ConfigError, load_settings  # noqa: E402
from sitter.contract import AnalyzePhotoRequest  # noqa: E402


def photos(faces: Path) -> list[tuple[str, bytes]]:
    if faces.is_dir():
        return [
            (f"{p.parent.name}/{p.name}", p.read_bytes())
            for p in sorted(faces.glob("*/*.jpg"))
            if p.parent.name not in ("group", "noface")
        ]
    from PIL import Image
    from skimage import data

    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buf, "JPEG", quality=92)
    return [("astronaut.jpg", buf.getvalue())]


def bench(backend: str, items: list[tuple[str, bytes]], repeat: int) -> None:
    from engine.faces import load_analyzer

    try:
        t0 = time.perf_counter()
        analyzer = load_analyzer(load_settings(face_backend=backend))
        load_s = time.perf_counter() - t0
    except ConfigError as exc:
        print(f"{backend}: not measured: {str(exc).splitlines()[0]}")
        return
    analyze_photo(AnalyzePhotoRequest(photo=items[0][1]), analyzer)  # warm-up
    times, accepted = [], 0
    for _ in range(repeat):
        for _name, data in items:
            t = time.perf_counter()
            r = analyze_photo(AnalyzePhotoRequest(photo=data), analyzer)
            times.append(time.perf_counter() - t)
            accepted += r.accepted
    times.sort()
    p90 = times[int(0.9 * (len(times) - 1))]
    print(
        f"{analyzer.name}: model load {load_s:.2f} s; {len(items)} photos x {repeat}: "
        f"median {statistics.median(times) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms, "
        f"min {times[0] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms per photo "
        f"({accepted}/{len(times)} accepted)"
    )


def raw_dlib(analyzer: object, data: bytes) -> int:
    """Plain dlib on the full photo: what analyze_photo is measured against."""
    import numpy as np
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as im:
        arr = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    rects = analyzer._detector(arr, 1)  # type: ignore[attr-defined]
    for rect in rects:
        shape = analyzer._predictor(arr, rect)  # type: ignore[attr-defined]
        analyzer._recognizer.compute_face_descriptor(arr, shape)  # type: ignore[attr-defined]
    return len(rects)


def side_by_side(items: list[tuple[str, bytes]], repeat: int) -> None:
    """analyze_photo (dlib) and raw dlib, alternating photo by photo."""
    from engine.faces.dlib_backend import DlibAnalyzer

    analyzer = DlibAnalyzer()
    looks = {"quick": 0, "closer": 0, "thorough": 0}
    find = analyzer._find

    def counting_find(work, side, upsample, enlarge=False):  # type: ignore[no-untyped-def]
        looks["thorough" if upsample else "closer" if enlarge else "quick"] += 1
        return find(work, side, upsample, enlarge)

    analyzer._find = counting_find  # type: ignore[method-assign]
    from engine.safety_check import Policy, SafetyAction, Screen, load_classifier
    from sitter.config import DEFAULT_SAFETY_THRESHOLD

    screen = Screen(load_classifier(), Policy(DEFAULT_SAFETY_THRESHOLD, SafetyAction.REGENERATE))
    raw_dlib(analyzer, items[0][1])
    analyze_photo(AnalyzePhotoRequest(photo=items[0][1]), analyzer, safety=screen)  # warm-up
    project, raw, checked = [], [], []
    for _ in range(repeat):
        for _name, data in items:
            t = time.perf_counter()
            analyze_photo(AnalyzePhotoRequest(photo=data), analyzer)
            project.append(time.perf_counter() - t)
            t = time.perf_counter()
            raw_dlib(analyzer, data)
            raw.append(time.perf_counter() - t)
            t = time.perf_counter()
            analyze_photo(AnalyzePhotoRequest(photo=data), analyzer, safety=screen)
            checked.append(time.perf_counter() - t)
    p, r = statistics.median(project), statistics.median(raw)
    n = 2 * len(items) * repeat + 1  # analyze_photo calls, the warm-up included
    print(
        f"side by side, {len(items)} photos x {repeat}: analyze_photo median {p * 1000:.0f} ms, "
        f"raw dlib median {r * 1000:.0f} ms, ratio {p / r:.2f} (medians); "
        f"total {sum(project):.2f} s vs {sum(raw):.2f} s, ratio {sum(project) / sum(raw):.2f}"
    )
    s = statistics.median(checked)
    print(
        f"  with the output safety check (as the worker runs it): median {s * 1000:.0f} ms, "
        f"ratio {s / r:.2f}; total ratio {sum(checked) / sum(raw):.2f}"
    )
    print(
        f"  detector looks per photo: quick {looks['quick'] / n:.2f}, "
        f"closer {looks['closer'] / n:.2f}, thorough {looks['thorough'] / n:.2f}"
    )


def bench_safety(items: list[tuple[str, bytes]]) -> None:
    """The output safety check (open_nsfw on onnxruntime) per photo, one thread."""
    try:
        from engine.safety_check import load_classifier
    except ImportError as exc:
        print(f"safety check: not measured: {exc}")
        return
    from engine.intake import decode_photo

    classifier = load_classifier()
    images = [decode_photo(data).image for _n, data in items]
    classifier.score(images[0])
    times = []
    for image in images:
        t = time.perf_counter()
        classifier.score(image)
        times.append(time.perf_counter() - t)
    print(f"safety check: median {statistics.median(times) * 1000:.1f} ms per photo")


def verdicts(faces: Path) -> dict[str, list[object]]:
    from engine.faces.dlib_backend import DlibAnalyzer

    analyzer = DlibAnalyzer()
    out: dict[str, list[object]] = {}
    for folder in (faces, faces.parent / "bad-images"):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix != ".md":
                r = analyze_photo(AnalyzePhotoRequest(photo=path.read_bytes()), analyzer)
                problems = sorted(i.problem.value for i in r.issues)
                out[f"{folder.name}/{path.relative_to(folder)}"] = [
                    r.accepted,
                    problems,
                    r.face_count,
                ]
    return out


def bench_intake_worst_case() -> None:
    """Decoding a photo at the pixel limit (8000x8000 = 64 MP): the most a file may ask."""
    import numpy as np
    from PIL import Image

    from engine.intake import DEFAULT_MAX_PIXELS, decode_photo

    side = int(DEFAULT_MAX_PIXELS**0.5)
    ramp = np.linspace(0, 255, side, dtype=np.uint8)
    image = Image.fromarray(np.stack([np.tile(ramp, (side, 1))] * 3, axis=-1))
    for fmt in ("JPEG", "PNG"):
        buf = io.BytesIO()
        image.save(buf, fmt)
        t = time.perf_counter()
        decode_photo(buf.getvalue(), max_bytes=1 << 30)
        print(
            f"intake worst case: {side}x{side} {fmt} ({len(buf.getvalue()) // 1024} KB) "
            f"decoded in {time.perf_counter() - t:.2f} s"
        )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--verdicts", type=Path, help="write every photo's verdict here (JSON)")
    ap.add_argument("--compare", type=Path, help="compare the verdicts with this file")
    args = ap.parse_args()
    if args.verdicts or args.compare:
        import json

        now = verdicts(args.faces)
        if args.verdicts:
            args.verdicts.write_text(json.dumps(now, indent=1))
            print(f"{len(now)} verdicts written to {args.verdicts}")
        if args.compare:
            before = json.loads(args.compare.read_text())
            differ = [k for k in sorted(set(before) | set(now)) if before.get(k) != now.get(k)]
            for k in differ:
                print(f"  {k}: before {before.get(k)}, now {now.get(k)}")
            print(f"{len(now)} photos, {len(differ)} verdicts differ from {args.compare}")
            return 1 if differ else 0
        return 0
    items = photos(args.faces)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"one core (affinity {cpus}), threads=1; photos: {len(items)}")
    side_by_side(items, args.repeat)
    for backend in ("dlib", "insightface"):
        bench(backend, items, args.repeat)
    bench_safety(items)
    bench_intake_worst_case()
    return 0


if __name__ == "__main__":
    sys.exit(main())
