"""The engine worker: arq jobs on two queues, one loaded :class:`Runtime`.

``sitter worker`` runs two arq ``Worker`` objects in one event loop, sharing
one runtime (models are loaded once):

- the **fast** queue (photo analysis, set checks, labels) starts as soon as the
  face models are loaded, with a few jobs at a time;
- the **gpu** queue (generation, upscaling) starts once the pipeline is loaded
  and warmed up, with ``SITTER_GENERATION_CONCURRENCY`` jobs at a time (1 = one
  generation per GPU).

Every job takes one ``dict`` and validates it with ``contract.parse_request``;
the heavy work runs in a thread (``asyncio.to_thread``) so the worker's
heartbeat and the other queue keep going. Results are the contract models as
dicts; permanent errors come back as ``JobFailure`` dicts; transient ones
(CUDA out of memory, a model still loading) raise ``arq.Retry`` with backoff,
bounded by ``MAX_TRIES`` (which also bounds re-runs after a worker died).

For ``python -m arq engine.worker.WorkerSettings`` (one queue per process) the
settings classes are built on first access: importing this module loads nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from arq import Retry
from arq.worker import Function, Worker, func

from sitter import contract as c
from sitter.config import Settings, load_settings
from sitter.queue import redis_settings

log = logging.getLogger(__name__)

MAX_TRIES = 3
FAST_MAX_JOBS = 4
RETRY_BACKOFF_S = (5, 20, 60)  # defer before try 2, 3, 4...
# arq rewrites "<queue>:health-check" this often; `python -m sitter.healthcheck worker`
# (the container health check) reads it, so a dead worker shows within a minute.
HEALTH_CHECK_INTERVAL_S = 30
# On SIGTERM running jobs get this long to finish (docker stop waits 10 s by default:
# set stop_grace_period above it); the rest are cancelled and run again elsewhere.
SHUTDOWN_GRACE_S = 25.0


class Permanent(Exception):
    """A job that can never succeed as asked; becomes a JobFailure with ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _backoff(job_try: int) -> int:
    return RETRY_BACKOFF_S[min(job_try - 1, len(RETRY_BACKOFF_S) - 1)]


def _failure(job: str, code: str, message: str) -> dict[str, Any]:
    from sitter.observability import record_failure

    record_failure(job, code)
    log.warning("%s failed (%s): %s", job, code, message)
    return c.JobFailure(code=code, message=message).model_dump()


def _is_oom(exc: BaseException) -> bool:
    return type(exc).__name__ == "OutOfMemoryError" or "CUDA out of memory" in str(exc)


def _permanent_code(exc: BaseException) -> str | None:
    """Known bad-input errors from the engine's modules -> a failure code."""
    from engine.likeness import IdentityMismatch

    if isinstance(exc, Permanent):
        return exc.code
    if isinstance(exc, IdentityMismatch):
        return "identity_mismatch"
    name = type(exc).__name__
    return {
        "UpscaleError": "bad_image",
        "ProvenanceError": "bad_image",
        "PhotoRefused": "bad_image",
        "ValueError": "bad_request",
        "PromptTooLong": "prompt_too_long",
    }.get(name)


# --- the work, run in a thread ------------------------------------------------------------------
def _do_generate(rt: Any, req: c.GenerateRequest, cancel: threading.Event) -> c.Message:
    from engine.pipeline.generate import generate
    from sitter.observability import record_likeness

    result = generate(rt, req, cancel)
    for v in result.variations:
        record_likeness(v.likeness)
    return result


def _do_analyze(rt: Any, req: c.AnalyzePhotoRequest, cancel: threading.Event) -> c.Message:
    try:
        from engine.analysis import analyze_photo
        from engine.intake import IntakeLimits
    except ImportError as exc:
        raise Permanent("not_available", f"photo analysis is not in this build: {exc}") from None
    return analyze_photo(req, rt.require_analyzer(), IntakeLimits.from_settings(rt.settings))


def _do_check_set(rt: Any, req: c.CheckSetRequest, cancel: threading.Event) -> c.Message:
    try:
        from engine.analysis import check_set
    except ImportError as exc:
        raise Permanent("not_available", f"set checks are not in this build: {exc}") from None
    return check_set(req, rt.require_analyzer())


def _do_upscale(rt: Any, req: c.UpscaleRequest, cancel: threading.Event) -> c.Message:
    import io
    import time

    from PIL import Image

    from engine.provenance import carry_provenance
    from engine.upscale import upscale

    if rt.upscaler is None:
        raise Permanent("not_available", "this worker has no upscaler loaded")
    started = time.perf_counter()
    big, method = upscale(req.image, req.scale, rt.upscaler)
    edit = f"upscaled {req.scale}x ({method})"
    big = carry_provenance(big, req.image, signer=rt.require_signer(), edit=edit)
    with Image.open(io.BytesIO(big)) as im:
        width, height = im.size
    return c.UpscaleResult(
        image=big,
        method=method,
        width=width,
        height=height,
        seconds=round(time.perf_counter() - started, 3),
    )


def _do_label(rt: Any, req: c.LabelRequest, cancel: threading.Event) -> c.Message:
    import time

    from engine.badge import label

    started = time.perf_counter()
    image = label(req.image, signer=rt.require_signer(), text=req.text)
    return c.LabelResult(image=image, seconds=round(time.perf_counter() - started, 3))


def _do_check_prompt(rt: Any, req: c.CheckPromptRequest, cancel: threading.Event) -> c.Message:
    from engine.prompt_check import check_prompt

    return check_prompt(rt.settings, req)


WORK: dict[str, Callable[[Any, Any, threading.Event], c.Message]] = {
    c.JOB_CHECK_PROMPT: _do_check_prompt,
    c.JOB_GENERATE: _do_generate,
    c.JOB_ANALYZE: _do_analyze,
    c.JOB_CHECK_SET: _do_check_set,
    c.JOB_UPSCALE: _do_upscale,
    c.JOB_LABEL: _do_label,
}


# --- the arq job functions ---------------------------------------------------------------------
async def run_job(ctx: dict[str, Any], job: str, payload: Any) -> dict[str, Any]:
    """Validate, run in a thread, and map errors: the body of every job."""
    from engine.runtime import ModelLoading
    from sitter.observability import bind_order, observe_job

    try:
        req = c.parse_request(job, payload)
    except c.ContractError as exc:
        return _failure(job, "bad_request", str(exc))
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
                return _failure(
                    job, "not_ready", f"the worker's models did not load in time: {exc}"
                )
            raise Retry(defer=_backoff(job_try)) from None
        except Exception as exc:
            if _is_oom(exc):
                _free_gpu_memory()
                if job_try >= MAX_TRIES:
                    return _failure(
                        job, "out_of_memory", f"the GPU ran out of memory {job_try} times"
                    )
                log.warning("%s: out of GPU memory (try %d); retrying later", job, job_try)
                raise Retry(defer=_backoff(job_try)) from None
            code = _permanent_code(exc)
            if code is not None:
                return _failure(job, code, str(exc))
            log.exception("%s crashed", job)  # the details stay in the worker's log
            return _failure(
                job,
                "internal",
                "the engine hit an unexpected error; the operator can see it in its log",
            )
    return result.model_dump()


def _free_gpu_memory() -> None:
    with contextlib.suppress(Exception):
        import gc

        import torch

        gc.collect()
        torch.cuda.empty_cache()


# The bot waits for photo checks as they run; their kept results (which carry the
# uploaded photo as the job's argument) need not outlive that wait.
SHORT_KEEP_S = {c.JOB_ANALYZE: 600, c.JOB_CHECK_SET: 600, c.JOB_CHECK_PROMPT: 600}


def _job(name: str, timeout: int) -> Function:
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
    c.QUEUE_FAST: ("faces", "signer", "text"),
    c.QUEUE_GPU: ("faces", "signer", "pipeline", "upscaler"),
}


def worker_options(settings: Settings, queue: str) -> dict[str, Any]:
    """arq Worker keyword arguments for one queue (also the WorkerSettings content)."""
    if queue not in QUEUE_JOBS:
        raise ValueError(f"unknown queue {queue!r}: use {' or '.join(QUEUE_JOBS)}")
    return {
        "functions": [_job(name, settings.job_timeout_s) for name in QUEUE_JOBS[queue]],
        "queue_name": c.queue_name(settings.queue_prefix, queue),
        "redis_settings": redis_settings(settings.redis_url),
        "job_serializer": c.serialize,
        "job_deserializer": c.deserialize,
        "max_jobs": settings.generation_concurrency if queue == c.QUEUE_GPU else FAST_MAX_JOBS,
        "job_timeout": settings.job_timeout_s,
        "keep_result": settings.result_ttl_s,
        "poll_delay": settings.poll_delay_s,
        "max_tries": MAX_TRIES,
        "handle_signals": False,
        "health_check_interval": HEALTH_CHECK_INTERVAL_S,
    }


def build_worker(
    settings: Settings, queue: str, runtime: Any, *, burst: bool = False, heartbeat: Any = None
) -> Worker:
    opts = worker_options(settings, queue)
    worker = Worker(**opts, burst=burst, ctx={"runtime": runtime, "settings": settings})
    if heartbeat is not None:
        heartbeat.attach(worker)  # claim each job as it starts, release it as it ends
    return worker


def _heartbeat(settings: Settings, queues: tuple[str, ...], workers: list[Worker]) -> Any:
    from redis.asyncio import Redis

    from sitter.heartbeat import Heartbeat

    redis = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    return Heartbeat(
        redis,
        settings.queue_prefix,
        queues,
        settings.worker_heartbeat_s,
        model=settings.model,
        running=lambda: [j for w in workers for j in w.job_tasks],
    )


# --- `python -m arq engine.worker.WorkerSettings` ----------------------------------------------
def _settings_class(queue: str) -> type:
    settings = load_settings()
    running: set[str] = set()
    beats: list[Any] = []

    async def on_startup(ctx: dict[str, Any]) -> None:
        from engine.runtime import Runtime
        from sitter.heartbeat import Heartbeat

        beat = Heartbeat(
            ctx["redis"],
            settings.queue_prefix,
            (queue,),
            settings.worker_heartbeat_s,
            model=settings.model,
            running=lambda: tuple(running),
        )
        beat.start()  # "loading" until the models are in
        beats.append(beat)
        ctx["settings"] = settings
        ctx["runtime"] = await asyncio.to_thread(Runtime(settings).load, QUEUE_PARTS[queue])
        await _beat_now(beat)

    async def on_job_start(ctx: dict[str, Any]) -> None:
        running.add(str(ctx["job_id"]))
        with contextlib.suppress(Exception):
            await beats[0].claim(str(ctx["job_id"]))

    async def after_job_end(ctx: dict[str, Any]) -> None:
        running.discard(str(ctx["job_id"]))
        with contextlib.suppress(Exception):
            await beats[0].release(str(ctx["job_id"]))

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        for beat in beats:
            await beat.stop()

    opts = worker_options(settings, queue)
    opts.pop("handle_signals")
    hooks = {
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "on_job_start": on_job_start,
        "after_job_end": after_job_end,
    }
    return type(f"{queue.capitalize()}WorkerSettings", (), {**opts, **hooks})


def __getattr__(name: str) -> Any:
    """Build ``WorkerSettings`` (gpu queue) / ``FastWorkerSettings`` lazily (PEP 562)."""
    if name == "WorkerSettings":
        return _settings_class(c.QUEUE_GPU)
    if name == "FastWorkerSettings":
        return _settings_class(c.QUEUE_FAST)
    raise AttributeError(name)


# --- `sitter worker` ---------------------------------------------------------------------------
async def run_workers(
    settings: Settings,
    queues: tuple[str, ...] = (c.QUEUE_FAST, c.QUEUE_GPU),
    *,
    burst: bool = False,
    runtime: Any = None,
    stop: asyncio.Event | None = None,
    grace_s: float = SHUTDOWN_GRACE_S,
) -> list[Worker]:
    """Serve ``queues`` until ``stop`` is set (or, in burst mode, until they are empty).

    On ``stop`` no new job is taken and running ones get ``grace_s`` to finish;
    any still running then are cancelled, and arq queues them again.
    """
    from engine.runtime import Runtime

    rt = runtime or Runtime(settings)
    parts = tuple(dict.fromkeys(p for q in queues for p in QUEUE_PARTS[q]))
    workers: list[Worker] = []
    tasks: list[asyncio.Task[None]] = []
    # Beats from the start ("loading"), so the bot waits for a worker that is coming
    # instead of saying none is running; "serving" once every queue is served.
    beat = _heartbeat(settings, queues, workers)
    beat.start()
    try:
        if runtime is None:
            light = tuple(p for p in parts if p in ("faces", "signer", "text"))
            await asyncio.to_thread(rt.load, light)
        if c.QUEUE_FAST in queues:
            workers.append(build_worker(settings, c.QUEUE_FAST, rt, burst=burst, heartbeat=beat))
            tasks.append(asyncio.create_task(workers[-1].async_run()))
        if c.QUEUE_GPU in queues:
            if runtime is None:
                heavy = tuple(p for p in parts if p not in ("faces", "signer", "text"))
                await asyncio.to_thread(rt.load, heavy)  # the fast queue already serves
                log.info("models ready: %s", rt.load_seconds)
            workers.append(build_worker(settings, c.QUEUE_GPU, rt, burst=burst, heartbeat=beat))
            tasks.append(asyncio.create_task(workers[-1].async_run()))
        await _beat_now(beat)
    except BaseException:
        await beat.stop()
        await beat.redis.aclose()
        raise
    try:
        if stop is None:
            await asyncio.gather(*tasks)
        else:
            # All workers, not the first to end: in burst mode the fast queue may be
            # empty (and its worker done) before the gpu worker has even started.
            # A crash of either still ends the gather at once.
            waiter = asyncio.create_task(stop.wait())
            everything = asyncio.gather(*tasks)
            await asyncio.wait([waiter, everything], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if everything.done():
                everything.result()  # re-raise a worker's crash
            await _drain(workers, grace_s)
    finally:
        await beat.stop()
        await beat.redis.aclose()
        for w in workers:
            await w.close()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return workers


async def _beat_now(beat: Any) -> None:
    beat.state = "serving"
    with contextlib.suppress(Exception):
        await beat.beat()


async def _drain(workers: list[Worker], grace_s: float) -> None:
    for w in workers:
        w.allow_pick_jobs = False
    running = [t for w in workers for t in w.tasks.values() if not t.done()]
    if running:
        log.info("stopping: waiting up to %.0fs for %d running job(s)", grace_s, len(running))
        await asyncio.wait(running, timeout=grace_s)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """``sitter worker [--burst] [--queues fast,gpu]``."""
    from sitter.observability import configure_logging, start_from_settings

    queues = tuple(q.strip() for q in str(getattr(args, "queues", "fast,gpu")).split(",") if q)
    unknown = [q for q in queues if q not in QUEUE_JOBS]
    if unknown or not queues:
        print(f"unknown queue(s) {', '.join(unknown)}: use fast, gpu or fast,gpu")
        return 2
    configure_logging(settings)
    from engine.licences import enforce

    enforce(settings)  # refuse before anything loads (ConfigError: printed by the CLI)
    start_from_settings(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_workers(settings, queues, burst=bool(getattr(args, "burst", False)), stop=stop)

    asyncio.run(main())
    return 0
