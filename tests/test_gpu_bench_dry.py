"""scripts/gpu_bench.sh's short mode (``dry``): the GPU call's same steps on a CPU, with the
tiny models of both benchmarked families (SDXL's pair of paths, FLUX.2 [klein] with four
references), eager then graph capture; the rows as the benchmark wrote them. About 1.5
CPU-minutes alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_bench_dry_runs_both_families_on_the_cpu(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "OUT": str(tmp_path),
        "REPEATS": "1",
        "PYTHON": sys.executable,
        "PYTHONPATH": str(ROOT),
    }
    run = subprocess.run(
        ["bash", "scripts/gpu_bench.sh", "dry"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    sdxl = json.loads((tmp_path / "all-sdxl.json").read_text())
    klein = json.loads((tmp_path / "all-klein.json").read_text())
    # The eager rows always; the graph-capture rows unless the script's own time limit
    # (sized for the GPU) cut them on a busy CPU: each family's stage keeps its rows.
    got = {(r["variant"], r["path"]) for r in sdxl + klein}
    assert {("all-switches", "quality"), ("all-switches", "fast")} <= got
    assert ("all-switches", "klein-4r") in got
    assert got <= {
        (variant, path)
        for variant in ("all-switches", "+compile(trace)")
        for path in ("quality", "fast", "klein-4r")
    }
    for r in sdxl + klein:
        assert r["size"] == 64 and 0 < r["s_min"] <= r["s_per_job"]
        assert 0 < r["floor_s"] < r["s_per_job"]
    table = run.stdout[run.stdout.rindex("variant") :].splitlines()[1:]
    assert [line.split()[1] for line in table] == [r["path"] for r in sdxl + klein]
