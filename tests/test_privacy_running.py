"""A job dropped while it runs, and a follow-up pressed again, leave nothing of the
person in Redis (issue 13): a real Redis, a real SQLite file and a real arq worker
(engine.worker.build_worker, the production job wrapper and hooks). Only the work
itself is a small stand-in that holds until the test lets it finish, so the drop
lands while the job runs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix
from moderation_helpers import seed_person
from rights_scan import in_redis
from studio_harness import RecordingOutbox

from bot.studio.core.core import Studio
from bot.studio.rights import rights
from bot.studio.wizard import prompt_fit
from engine.pipeline.generate import Cancelled
from engine.work import WORK
from engine.worker import build_worker
from sitter import contract as c
from sitter.config import load_settings
from sitter.prompts import REFERENCE_PROMPT_SAFE_BYTES


@pytest.fixture
async def studio(redis_url: str, queue_prefix: str, data_dir: Path) -> AsyncIterator[Studio]:
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    s = await Studio.open(settings)
    s.add_outbox("terminal", RecordingOutbox())
    yield s
    await s.aclose()


class HeldWork:
    """Stands in for one job's work: starts, waits for ``release``, echoes its input."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.cancelled = False

    def upscale(self, runtime: Any, req: c.UpscaleRequest, cancel: threading.Event) -> Any:
        """Holds like a render does, stopping at its next step once ``cancel`` is set."""
        self.started.set()
        while not self.release.wait(0.02):
            if cancel.is_set():
                self.cancelled = True
                raise Cancelled("upscale cancelled")
        return c.UpscaleResult(image=req.image, method="held", width=8, height=8, seconds=0.1)

    def check_prompt(self, runtime: Any, req: c.CheckPromptRequest, cancel: Any) -> Any:
        self.started.set()
        self.release.wait(20)
        return c.CheckPromptResult(fits=True, message=req.prompt)


async def _started(work: HeldWork) -> None:
    assert await asyncio.to_thread(work.started.wait, 20), "the worker never ran the job"


async def _person_keys(url: str, needles: dict[str, bytes]) -> list[str]:
    return await in_redis(url, needles)


async def test_forget_while_a_job_runs_leaves_no_result(
    studio: Studio, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = HeldWork()
    monkeypatch.setitem(WORK, c.JOB_UPSCALE, work.upscale)
    ann = await seed_person(studio.store, "terminal", "ann")
    uid, vid = ann["user_id"], ann["variations"][0]
    portrait = studio.store.media.read((await studio.store.variation(vid)).path)
    vj = (await studio.store.variation_job(vid, "upscale"))["id"]
    await studio.enqueue_follow_up(vj)  # Upscale pressed: the request holds the portrait
    job_id = (await studio.store.variation_job(vid, "upscale"))["job_id"]

    worker = build_worker(studio.settings, c.QUEUE_GPU, runtime=None, burst=True)
    task = asyncio.create_task(worker.main())
    try:
        await _started(work)
        assert await studio.engine.redis.exists(in_progress_key_prefix + job_id)
        await rights.forget_everywhere(studio.services, uid)  # /forget while the job runs
        await asyncio.wait_for(task, 30)  # the worker sees the job gone and stops it
    finally:
        work.release.set()
        await worker.close()
    assert work.cancelled  # the render stopped at its next step, not run to the end
    assert worker.jobs_complete == 1  # and arq stored its (failure) result, then it went
    assert (
        await _person_keys(redis_url, {"portrait": portrait[100:164], "job": job_id.encode()}) == []
    )


async def test_a_job_still_wanted_keeps_its_result(
    studio: Studio, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clean-up touches only dropped jobs: the tracker still finds its answer."""
    work = HeldWork()
    work.release.set()
    monkeypatch.setitem(WORK, c.JOB_UPSCALE, work.upscale)
    ann = await seed_person(studio.store, "terminal", "ann")
    vid = ann["variations"][0]
    vj = (await studio.store.variation_job(vid, "upscale"))["id"]
    await studio.enqueue_follow_up(vj)
    job_id = (await studio.store.variation_job(vid, "upscale"))["job_id"]
    worker = build_worker(studio.settings, c.QUEUE_GPU, runtime=None, burst=True)
    try:
        await asyncio.wait_for(worker.main(), 30)
    finally:
        await worker.close()
    result = await studio.engine.result(c.JOB_UPSCALE, studio.engine.job(c.JOB_UPSCALE, job_id), 5)
    assert isinstance(result, c.UpscaleResult)


async def test_prompt_check_is_named_for_its_person_and_leaves_nothing(
    studio: Studio, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """check_prompt carries the person's answers: /forget finds it while it runs, and
    work that ignores the stop and runs to its end leaves no result either."""
    work = HeldWork()
    monkeypatch.setitem(WORK, c.JOB_CHECK_PROMPT, work.check_prompt)
    monkeypatch.setattr(prompt_fit, "CHECK_TIMEOUT_S", 60.0)
    user = await studio.store.ensure_user("terminal", "ann", "Ann", "ann-chat")
    secret = "ANN-SECRET-ANSWER-" + "x" * REFERENCE_PROMPT_SAFE_BYTES
    style = "cinematic"
    job_id = rights.analysis_job_id(await studio.job_prefix(), user["id"])
    check = asyncio.create_task(
        prompt_fit.prompt_refusal(
            studio.engine, studio.prompts, style, {"attire": secret}, job_id=job_id
        )
    )
    worker = build_worker(studio.settings, c.QUEUE_FAST, runtime=None, burst=True)
    task = asyncio.create_task(worker.main())
    try:
        await _started(work)
        # Named for Ann: the pattern /forget scans for finds it.
        pattern = f"{job_key_prefix}{await studio.job_prefix()}-a{user['id']}-*"
        assert [k async for k in studio.engine.redis.scan_iter(match=pattern)]
        assert await rights.drop_person_jobs(studio.store, studio.engine, user["id"]) >= 1
        work.release.set()
        await asyncio.wait_for(task, 30)
    finally:
        work.release.set()
        check.cancel()
        await worker.close()
    assert await _person_keys(redis_url, {"answer": b"ANN-SECRET-ANSWER-"}) == []


async def test_a_failed_follow_up_pressed_again_leaves_no_old_job(
    studio: Studio, redis_url: str
) -> None:
    """No worker: the job fails as the tracker reads it; pressed again, then /forget."""
    ann = await seed_person(studio.store, "terminal", "ann")
    uid, vid = ann["user_id"], ann["variations"][0]
    portrait = studio.store.media.read((await studio.store.variation(vid)).path)
    vj = (await studio.store.variation_job(vid, "upscale"))["id"]
    await studio.store.set_variation_job(vj, status="queued", delivered_at=None, path=None)
    await studio.enqueue_follow_up(vj)
    first = (await studio.store.variation_job(vid, "upscale"))["job_id"]
    # The engine answers with a failure (a stored arq result, as a worker writes it).
    await _fail(studio, c.JOB_UPSCALE, first)
    tracker = studio.tracker()
    assert await studio.engine.redis.exists(result_key_prefix + first)
    row = next(r for r in await studio.store.variation_jobs_to_follow() if r["id"] == vj)
    await tracker.follow_variation_job(row)
    assert (await studio.store.variation_job(vid, "upscale"))["status"] == "failed"
    assert not await studio.engine.redis.exists(result_key_prefix + first)  # dropped on failure
    # Pressed again while the old job is still there (a tracker that had not read it).
    await studio.enqueue_follow_up(vj)
    second = (await studio.store.variation_job(vid, "upscale"))["job_id"]
    await studio.enqueue_follow_up(vj)
    third = (await studio.store.variation_job(vid, "upscale"))["job_id"]
    assert len({first, second, third}) == 3
    assert not await studio.engine.redis.exists(job_key_prefix + second)
    await rights.forget_everywhere(studio.services, uid)
    assert await _person_keys(redis_url, {"portrait": portrait[100:164]}) == []


async def _fail(studio: Studio, job: str, job_id: str) -> None:
    """Run the queued job through a real worker whose work fails permanently."""
    from engine.job_errors import Permanent

    def broken(runtime: Any, req: Any, cancel: Any) -> Any:
        raise Permanent("bad_image", "the portrait could not be read")

    saved = WORK[job]
    WORK[job] = broken
    worker = build_worker(studio.settings, c.queue_for(job), runtime=None, burst=True)
    try:
        await asyncio.wait_for(worker.main(), 30)
    finally:
        WORK[job] = saved
        await worker.close()
    assert worker.jobs_complete + worker.jobs_failed == 1
