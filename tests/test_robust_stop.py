"""Issue 22, item 21: Ctrl-C while an order paints printed "Bye" and hung silently for
20 s, and the next start showed a stale 50%. A worker stopped by SIGINT (Ctrl-C, or
`sitter run`/`sitter chat` stopping the worker it started) hands its running job back
to the queue at once and leaves no progress behind; SIGTERM (`docker stop`) still gives
running jobs their grace period. The real arq worker on a real Redis, in this process;
only the job's work is slowed down (it waits for its cancel flag, as a render stops at
its next step)."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from arq.constants import in_progress_key_prefix

from engine import jobs as engine_jobs
from engine import progress
from engine import worker as engine_worker
from engine.runtime import Runtime
from sitter import contract as c
from sitter.config import Settings, load_settings
from sitter.queue import EngineClient, connect

pytestmark = pytest.mark.studio_db


@pytest.fixture
def settings(redis_url: str, queue_prefix: str, tmp_path: Path) -> Settings:
    return load_settings(
        face_backend="dlib",
        data_dir=tmp_path,
        redis_url=redis_url,
        queue_prefix=queue_prefix,
        poll_delay_s=0.01,
    )


@pytest.fixture
async def client(redis_url: str, queue_prefix: str) -> AsyncIterator[EngineClient]:
    pool = await connect(redis_url, queue_prefix)
    yield EngineClient(pool, queue_prefix, poll_delay=0.01)
    await pool.aclose()


@pytest.fixture
def slow_work(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """check_set paints for up to a minute, reporting 50% like a render."""
    started = threading.Event()

    def painting(rt: Any, req: Any, cancel: threading.Event) -> c.Message:
        progress.begin("render", [1, 2, 3, 4], 4, steps=10)
        progress.step(5, 10)
        started.set()
        cancel.wait(60)
        return c.CheckSetResult(outliers=[])

    monkeypatch.setitem(engine_jobs.WORK, c.JOB_CHECK_SET, painting)
    monkeypatch.setattr(engine_jobs, "PROGRESS_JOBS", (c.JOB_CHECK_SET,))
    return started


async def _painting(client: EngineClient, started: threading.Event, job_id: str) -> None:
    await client.enqueue(c.JOB_CHECK_SET, c.CheckSetRequest(embeddings=[]), job_id=job_id)
    for _ in range(400):
        if started.is_set() and await client.progress(job_id) is not None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the job never started painting")


async def test_ctrl_c_hands_the_running_order_back_at_once(
    settings: Settings, client: EngineClient, slow_work: threading.Event
) -> None:
    runtime = Runtime(settings).load(("faces",))
    serving = asyncio.create_task(engine_worker.serve(settings, (c.QUEUE_FAST,), runtime=runtime))
    await _painting(client, slow_work, "order-1")
    assert (await client.state(c.JOB_CHECK_SET, "order-1")).status == "running"
    assert (await client.progress("order-1")).step == 5  # type: ignore[union-attr]
    stopped = time.monotonic()
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C
    await asyncio.wait_for(serving, 20)
    assert time.monotonic() - stopped < 5  # not the 25 s grace
    state = await client.state(c.JOB_CHECK_SET, "order-1")
    assert state.status == "queued" and state.position == 0  # handed back, first in line
    assert not await client.redis.exists(in_progress_key_prefix + "order-1")
    assert await client.progress("order-1") is None  # no stale 50% at the next start


async def test_sigterm_still_lets_a_running_order_finish(
    settings: Settings, client: EngineClient, slow_work: threading.Event
) -> None:
    runtime = Runtime(settings).load(("faces",))
    serving = asyncio.create_task(engine_worker.serve(settings, (c.QUEUE_FAST,), runtime=runtime))
    await _painting(client, slow_work, "order-2")
    os.kill(os.getpid(), signal.SIGTERM)  # docker stop: the grace period
    await asyncio.sleep(1.0)
    assert not serving.done()
    assert (await client.state(c.JOB_CHECK_SET, "order-2")).status == "running"
    os.kill(os.getpid(), signal.SIGINT)  # and a Ctrl-C during the grace hurries it
    await asyncio.wait_for(serving, 20)
    assert (await client.state(c.JOB_CHECK_SET, "order-2")).status == "queued"
