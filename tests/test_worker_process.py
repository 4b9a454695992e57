"""`sitter worker`: both queues in one process sharing one runtime; import without side effects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from identity_refs import made_up

from sitter import contract as c
from sitter.config import Settings, load_settings
from sitter.queue import EngineClient, connect

ROOT = Path(__file__).resolve().parents[1]


# Two cores shared by many processes: one torch thread is several times faster here.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_importing_the_worker_loads_no_models() -> None:
    code = (
        "import sys, engine.worker as w; "
        "assert 'torch' not in sys.modules and 'diffusers' not in sys.modules; "
        "s = w.WorkerSettings; f = w.FastWorkerSettings; "
        "print(s.queue_name, s.max_jobs, [fn.name for fn in s.functions], f.queue_name)"
    )
    env = {"SITTER_QUEUE_PREFIX": "px", "SITTER_GENERATION_CONCURRENCY": "2", "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        "px:queue:gpu",
        "2",
        "['generate',",
        "'upscale',",
        "'refine']",
        "px:queue:fast",
    ]


def _tiny(redis_url: str, queue_prefix: str, data_dir: Path) -> Settings:
    return load_settings(
        model="tiny",
        face_backend="dlib",
        data_dir=data_dir,
        redis_url=redis_url,
        queue_prefix=queue_prefix,
        poll_delay_s=0.01,
    )


def _portrait(generation_id: str, seeds: list[int]) -> c.GenerateRequest:
    return c.GenerateRequest(
        generation_id=generation_id,
        prompt="a portrait",
        seeds=seeds,
        references=[made_up([0.1] * 128)],
        max_attempts=1,
    )


async def test_one_process_serves_both_queues(
    redis_url: str, queue_prefix: str, data_dir: Path
) -> None:
    from engine.worker import run_workers

    settings = _tiny(redis_url, queue_prefix, data_dir)
    redis = await connect(redis_url, queue_prefix)
    client = EngineClient(redis, queue_prefix, poll_delay=0.01)
    try:
        bad = await client.enqueue(c.JOB_CHECK_SET, c.CheckSetRequest(embeddings=[]))
        gen = await client.enqueue(
            c.JOB_GENERATE,
            _portrait("both", [1, 2]),
        )
        workers = await run_workers(settings, burst=True)
        assert [w.queue_name for w in workers] == [
            c.queue_name(queue_prefix, c.QUEUE_FAST),
            c.queue_name(queue_prefix, c.QUEUE_GPU),
        ]
        assert workers[0].ctx["runtime"] is workers[1].ctx["runtime"]  # loaded once
        res = await client.result(c.JOB_GENERATE, gen, timeout=5)
        assert isinstance(res, c.GenerateResult) and len(res.variations) == 2
        # The fast queue answered too (a result or a clear failure, never a crash).
        assert isinstance(await client.result(c.JOB_CHECK_SET, bad, timeout=5), c.Message)
        assert sum(w.jobs_failed for w in workers) == 0
    finally:
        await redis.aclose()


async def test_burst_with_a_stop_event_waits_for_the_gpu_queue(
    redis_url: str, queue_prefix: str, data_dir: Path
) -> None:
    """`sitter worker --burst` (which passes a stop event): an empty fast queue
    must not end the run before the gpu worker has loaded and done its jobs."""
    import asyncio

    from engine.worker import run_workers

    settings = _tiny(redis_url, queue_prefix, data_dir)
    redis = await connect(redis_url, queue_prefix)
    client = EngineClient(redis, queue_prefix, poll_delay=0.01)
    try:
        gen = await client.enqueue(
            c.JOB_GENERATE,
            _portrait("burst-gpu-only", [3]),
        )
        await run_workers(settings, burst=True, stop=asyncio.Event())
        res = await client.result(c.JOB_GENERATE, gen, timeout=5)
        assert isinstance(res, c.GenerateResult) and len(res.variations) == 1
    finally:
        await redis.aclose()


def test_unknown_queue_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from engine.worker import cmd_worker

    rc = cmd_worker(argparse.Namespace(queues="fast,cpu", burst=True), load_settings())
    assert rc == 2 and "cpu" in capsys.readouterr().out
