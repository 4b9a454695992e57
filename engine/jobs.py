"""The arq job functions: one per job name, each validating its payload, running its
work in a thread (``asyncio.to_thread``, so the worker's heartbeat and the other queue
keep going) and mapping its errors (engine/job_errors.py). Results are the contract
models as dicts. ``QUEUE_JOBS`` says which queue serves which jobs, ``QUEUE_PARTS``
which models each queue loads.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from arq import Retry
from arq.worker import Function, func

from engine.job_errors import (
    MAX_TRIES,
    backoff,
    failure,
    free_gpu_memory,
    is_oom,
    permanent_code,
)
from engine.work import WORK
from sitter import contract as c

log = logging.getLogger("engine.worker")


async def run_job(ctx: dict[str, Any], job: str, payload: Any) -> dict[str, Any]:
    """Validate, run in a thread, and map errors: the body of every job."""
    from engine.runtime import ModelLoading
    from sitter.observability import bind_order, observe_job

    try:
        req = c.parse_request(job, payload)
    except c.ContractError as exc:
        return failure(job, "bad_request", str(exc))
    runtime = ctx["runtime"]
    job_try = int(ctx.get("job_try", 1))
    cancel = threading.Event()
    order = getattr(req, "generation_id", None) or ctx.get("job_id")
    with bind_order(order), observe_job(job):
        try:
            result = await asyncio.to_thread(WORK[job], runtime, req, cancel)
        except asyncio.CancelledError:
            cancel.set()  # time limit or shutdown: stop the render at its next step
            raise
        except ModelLoading as exc:
            if job_try >= MAX_TRIES:
                return failure(job, "not_ready", f"the worker's models did not load in time: {exc}")
            raise Retry(defer=backoff(job_try)) from None
        except Exception as exc:
            if is_oom(exc):
                free_gpu_memory()
                if job_try >= MAX_TRIES:
                    return failure(
                        job, "out_of_memory", f"the GPU ran out of memory {job_try} times"
                    )
                log.warning("%s: out of GPU memory (try %d); retrying later", job, job_try)
                raise Retry(defer=backoff(job_try)) from None
            code = permanent_code(exc)
            if code is not None:
                return failure(job, code, str(exc))
            log.exception("%s crashed", job)  # the details stay in the worker's log
            return failure(
                job,
                "internal",
                "the engine hit an unexpected error; the operator can see it in its log",
            )
    return result.model_dump()


# The bot waits for photo checks as they run; their kept results (which carry the
# uploaded photo as the job's argument) need not outlive that wait.
SHORT_KEEP_S = {c.JOB_ANALYZE: 600, c.JOB_CHECK_SET: 600, c.JOB_CHECK_PROMPT: 600}


def job_function(name: str, timeout: int) -> Function:
    async def job(ctx: dict[str, Any], payload: Any) -> dict[str, Any]:
        return await run_job(ctx, name, payload)

    job.__qualname__ = job.__name__ = name
    return func(
        job, name=name, timeout=timeout, max_tries=MAX_TRIES, keep_result=SHORT_KEEP_S.get(name)
    )


QUEUE_JOBS = {
    c.QUEUE_FAST: (c.JOB_ANALYZE, c.JOB_CHECK_SET, c.JOB_LABEL, c.JOB_CHECK_PROMPT),
    c.QUEUE_GPU: (c.JOB_GENERATE, c.JOB_UPSCALE),
}
QUEUE_PARTS = {
    c.QUEUE_FAST: ("faces", "signer", "text", "safety"),
    c.QUEUE_GPU: ("faces", "signer", "safety", "pipeline", "upscaler"),
}
