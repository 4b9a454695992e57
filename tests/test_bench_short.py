"""Every benchmark issue 20 touched runs in its short mode and prints its figures (so it
can't rot): bench_tracker, bench_telegram and bench_workers, each as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(script: str, timeout: int, *extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITTER_")}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [sys.executable, f"benchmarks/{script}", "--short", "--json", *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_bench_tracker_short() -> None:
    # A tick of 2 s: the pass comes at most every 2 s (never sooner), so results sent
    # within a second came by their events; a dead event path (issue 20's review: the
    # short run could not tell) leaves them to the pass, and p99 rises towards 2 s.
    got = _run("bench_tracker.py", 240, "--tick-s", "2.0")
    assert set(got) >= {
        "queued", "delivery_median_ms", "delivery_p99_ms", "idle_cpu_pct",
        "redis_calls_per_pass",
    }  # fmt: skip
    assert got["finished"] == 5 and got["redis_calls_per_pass"] <= 6, got
    assert got["delivery_p99_ms"] < 1000, got


def test_bench_telegram_short() -> None:
    got = _run("bench_telegram.py", 300)
    assert got["chats"] == 20 and got["press a style -> attire step"] > 0, got


def test_bench_workers_short() -> None:
    got = _run("bench_workers.py", 400)
    assert got["workers"]["1"]["per_min"] > 0 and got["keys_left"] == 0, got
