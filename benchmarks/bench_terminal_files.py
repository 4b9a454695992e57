"""How long the terminal studio takes to list a big folder typed as a path (issue 22, item 7).

    python benchmarks/bench_terminal_files.py [--short] [--files N]

Makes a temporary folder of N empty files (half named .jpg, half .txt), then times
``bot.terminal.files.find`` on it, as ``sitter chat`` does when the folder's path is
typed. Before the fix a folder of 20,000 files took 37.7 s (a list lookup per file);
``--short`` lists 2,000 files (what tests/test_terminal_robust.py runs).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_folder(folder: Path, n: int) -> None:
    for i in range(n):
        (folder / f"{i:06d}{'.jpg' if i % 2 == 0 else '.txt'}").touch()


def measure(n: int) -> dict[str, float]:
    from bot.terminal import files

    with tempfile.TemporaryDirectory(prefix="sitter-bench-files-") as tmp:
        folder = Path(tmp)
        make_folder(folder, n)
        start = time.perf_counter()
        found = files.find(str(folder), max_files=50, max_bytes=1 << 20)
        seconds = time.perf_counter() - start
    assert found is not None and len(found.files) + len(found.skipped) == n
    return {"files": n, "seconds": seconds, "us_per_file": seconds / n * 1e6}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--short", action="store_true", help="2,000 files (for the test)")
    p.add_argument("--files", type=int, default=None, help="how many files (default 20,000)")
    args = p.parse_args(argv)
    n = args.files or (2_000 if args.short else 20_000)
    fig = measure(n)
    print(
        f"listed a folder of {fig['files']:,} files in {fig['seconds']:.2f} s "
        f"({fig['us_per_file']:.0f} µs per file)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
