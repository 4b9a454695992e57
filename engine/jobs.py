"""The arq job functions: one per job name, each validating its payload, running its
work in a thread (``asyncio.to_thread``, so the worker's heartbeat and the other queue
keep going) and mapping its errors (engine/job_errors.py). Results are the contract
models as dicts. ``QUEUE_JOBS`` (which queue serves which jobs) and ``QUEUE_PARTS``
(which models each queue loads) are read off the job table, engine/work.py ``JOBS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any

from arq import Retry
from arq.constants import job_key_prefix, result_key_prefix
from arq.worker import Function, Worker, func

from engine import job_context, progress
from engine.job_errors import (
    MAX_TRIES,
    FailureCode,
    backoff,
    failure,
    free_gpu_memory,
    is_oom,
    permanent_code,
)
from engine.parts import ModelLoading, in_load_order
from engine.work import JOBS, WORK
from sitter import contract as c

log = logging.getLogger("engine.worker")


async def run_job(ctx: dict[str, Any], job: str, payload: Any) -> dict[str, Any]:
    """Validate, run in a thread, and map errors: the body of every job."""
    from sitter.observability import bind_order, observe_job

    try:
        req = c.parse_request(job, payload)
    except c.ContractError as exc:
        return failure(job, FailureCode.BAD_REQUEST, str(exc))
    runtime = ctx["runtime"]
    job_try = int(ctx.get("job_try", 1))
    cancel = threading.Event()
    order = getattr(req, "generation_id", None) or ctx.get("job_id")
    watch = asyncio.create_task(_watch_dropped(ctx, cancel))
    # Live progress (engine/progress.py): current in the work thread, gone when it ends.
    reporter, token = progress.start(ctx) if job in PROGRESS_JOBS else (None, None)
    bound = job_context.bind(ctx)  # the job id and Redis, for work that needs them
    with bind_order(order), observe_job(job):
        try:
            try:
                result = await asyncio.to_thread(WORK[job], runtime, req, cancel)
            finally:
                job_context.unbind(bound)
                watch.cancel()
                await progress.stop(reporter, token)
        except asyncio.CancelledError:
            cancel.set()  # time limit or shutdown: stop the render at its next step
            raise
        except ModelLoading as exc:
            if job_try >= MAX_TRIES:
                why = f"the worker's models did not load in time: {exc}"
                return failure(job, FailureCode.NOT_READY, why)
            raise Retry(defer=backoff(job_try)) from None
        except Exception as exc:
            if ctx.get(DROPPED):  # stopped at its next step: nobody wants it any more
                return failure(job, FailureCode.DROPPED, "the job was dropped while it ran")
            if is_oom(exc):
                free_gpu_memory()
                if job_try >= MAX_TRIES:
                    why = f"the GPU ran out of memory {job_try} times"
                    return failure(job, FailureCode.OUT_OF_MEMORY, why)
                log.warning("%s: out of GPU memory (try %d); retrying later", job, job_try)
                raise Retry(defer=backoff(job_try)) from None
            code = permanent_code(exc)
            if code is not None:
                return failure(job, code, str(exc))
            log.exception("%s crashed", job)  # the details stay in the worker's log
            return failure(
                job,
                FailureCode.INTERNAL,
                "the engine hit an unexpected error; the operator can see it in its log",
            )
    return result.model_dump()


PROGRESS_JOBS = (c.JOB_GENERATE, c.JOB_REFINE, c.JOB_TRAIN)  # jobs that report live progress

# The bot waits for photo checks as they run; their kept results (which carry the
# uploaded photo as the job's argument) need not outlive that wait.
SHORT_KEEP_S = {c.JOB_ANALYZE: 600, c.JOB_CHECK_SET: 600, c.JOB_CHECK_PROMPT: 600}


# Set in a job's ctx when the bot dropped the job (/forget, a purge, a cancel, a wait
# given up) while it ran: arq writes the result, with the job's arguments, after the
# function returns, so ``drop_unwanted_result`` (an ``after_job_end`` hook) deletes it.
DROPPED = "sitter_dropped"
DROP_POLL_S = 1.0  # how often a running job looks whether it is still wanted


async def _dropped(ctx: dict[str, Any]) -> bool:
    redis, job_id = ctx.get("redis"), ctx.get("job_id")
    if redis is None or job_id is None:
        return False
    return not await redis.exists(job_key_prefix + str(job_id))


async def drop_unwanted_result(ctx: dict[str, Any]) -> None:
    """Delete the kept result of a job the bot dropped while it ran: nobody will read it."""
    if ctx.get(DROPPED):
        await ctx["redis"].delete(result_key_prefix + str(ctx["job_id"]))


def chain_after_job_end(worker: Worker) -> None:
    """Run ``drop_unwanted_result`` after whatever ``after_job_end`` hook is set."""
    previous = worker.after_job_end

    async def after_job_end(ctx: dict[str, Any]) -> None:
        try:
            if previous is not None:
                await previous(ctx)
        finally:
            await drop_unwanted_result(ctx)

    worker.after_job_end = after_job_end


async def _watch_dropped(ctx: dict[str, Any], cancel: threading.Event) -> None:
    """Stop the work at its next step (``cancel``) once the bot drops the job."""
    with contextlib.suppress(Exception):
        while not cancel.is_set():
            await asyncio.sleep(DROP_POLL_S)
            if await _dropped(ctx):
                ctx[DROPPED] = True
                cancel.set()


def job_function(name: str, timeout: int) -> Function:
    async def job(ctx: dict[str, Any], payload: Any) -> dict[str, Any]:
        try:
            return await run_job(ctx, name, payload)
        finally:
            with contextlib.suppress(Exception):
                ctx[DROPPED] = await _dropped(ctx)

    job.__qualname__ = job.__name__ = name
    return func(
        job, name=name, timeout=timeout, max_tries=MAX_TRIES, keep_result=SHORT_KEEP_S.get(name)
    )


QUEUES = (c.QUEUE_FAST, c.QUEUE_GPU, c.QUEUE_TRAIN)
QUEUE_JOBS: dict[str, tuple[str, ...]] = {
    q: tuple(j.name for j in JOBS if j.queue == q) for q in QUEUES
}
QUEUE_PARTS: dict[str, tuple[str, ...]] = {
    q: in_load_order(p for j in JOBS if j.queue == q for p in j.parts) for q in QUEUES
}


def job_timeout(settings: Any, job: str) -> int:
    """A job's time limit: a personal model's training has its own (SITTER_TRAIN_TIMEOUT_S)."""
    return int(settings.train_timeout_s if job == c.JOB_TRAIN else settings.job_timeout_s)


def default_queues(settings: Any) -> str:
    """``sitter worker``'s queues when none are named: with SITTER_TRAIN_MODE=shared
    (the default) it trains too, yielding to orders between steps; with dedicated,
    trainers are run apart (``sitter worker --queues train``)."""
    base = f"{c.QUEUE_FAST},{c.QUEUE_GPU}"
    return f"{base},{c.QUEUE_TRAIN}" if settings.train_mode == "shared" else base
