"""Photo analysis time per photo on ONE CPU core, per face backend.

What is timed is :func:`engine.analysis.analyze_photo`, the bot's job: decode,
detect, quality, embed, aligned crop. Photos: the identity photos of
../shared/faces (or skimage's astronaut when they are absent). The process is
pinned to one core and every thread pool is set to one thread before the
libraries load. Last, the intake's worst case: decoding a photo at the pixel limit.

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
    args = ap.parse_args()
    items = photos(args.faces)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"one core (affinity {cpus}), threads=1; photos: {len(items)}")
    for backend in ("dlib", "insightface"):
        bench(backend, items, args.repeat)
    bench_intake_worst_case()
    return 0


if __name__ == "__main__":
    sys.exit(main())
