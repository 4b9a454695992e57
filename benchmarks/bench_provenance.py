"""AI labels: time to add provenance (XMP + note + C2PA signature), verify, and badge.

    .venv/bin/python benchmarks/bench_provenance.py [--size 1024] [--repeat 20]

Uses a throwaway development CA in a temporary folder. Prints medians.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    from PIL import Image
    from skimage import data

    from engine.badge import add_badge, label
    from engine.provenance import add_provenance, verify
    from engine.signing import load_signer
    from sitter.config import Settings

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        signer = load_signer(Settings(data_dir=Path(tmp)))
        print(f"development CA created in {(time.perf_counter() - t) * 1000:.0f} ms")
        photo = Image.fromarray(data.astronaut()).resize((args.size, args.size))
        for fmt in ("PNG", "JPEG"):
            buf = io.BytesIO()
            photo.save(buf, fmt)
            raw = buf.getvalue()
            signed = add_provenance(raw, model="tiny", seed=1, signer=signer)
            sign_ms = _median_ms(
                lambda raw=raw: add_provenance(raw, model="tiny", seed=1, signer=signer),
                args.repeat,
            )
            verify_ms = _median_ms(lambda s=signed: verify(s), args.repeat)
            label_ms = _median_ms(
                lambda s=signed: label(s, signer=signer), max(3, args.repeat // 4)
            )
            print(
                f"{fmt} {args.size}px ({len(raw) // 1024} KiB): add_provenance {sign_ms:.1f} ms "
                f"(+{len(signed) - len(raw)} bytes), verify {verify_ms:.1f} ms, "
                f"label job {label_ms:.0f} ms"
            )
        for size in (512, 2048, 4096):
            img = Image.new("RGB", (size, size), "white")
            print(f"badge on {size}px: {_median_ms(lambda i=img: add_badge(i), 5):.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
