"""The engine worker: arq jobs on two queues, one loaded :class:`Runtime`.

``sitter worker`` runs two arq ``Worker`` objects in one event loop, sharing
one runtime (models are loaded once):

- the **fast** queue (photo analysis, set checks, labels) starts as soon as the
  face models are loaded, with a few jobs at a time;
- the **gpu** queue (generation, upscaling) starts once the pipeline is loaded
  and warmed up, with ``SITTER_GENERATION_CONCURRENCY`` jobs at a time (1 = one
  generation per GPU).

The jobs themselves are in engine/jobs.py (validation, a thread, error mapping),
their work and the job table (which queue, which model parts) in engine/work.py and
the error rules in engine/job_errors.py; this module builds and runs the arq
workers around them.

For ``python -m arq engine.worker.WorkerSettings`` (one queue per process) the
settings classes are built on first access: importing this module loads nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import signal
from typing import TYPE_CHECKING, Any

from arq.worker import Worker

from engine.job_errors import MAX_TRIES, Permanent, permanent_code
from engine.jobs import (
    QUEUE_JOBS,
    QUEUE_PARTS,
    chain_after_job_end,
    default_queues,
    drop_unwanted_result,
    job_function,
    job_timeout,
    run_job,
)
from engine.parts import LIGHT_PARTS
from engine.work import WORK
from sitter import contract as c
from sitter import events
from sitter.config import Settings, load_settings
from sitter.queue import redis_settings

if TYPE_CHECKING:
    from engine.runtime import Runtime
    from sitter.heartbeat import Heartbeat

__all__ = ["MAX_TRIES", "WORK", "Permanent", "permanent_code", "run_job"]  # their old home

log = logging.getLogger(__name__)


class _NoJobData(logging.Filter):
    """arq logs each job's arguments when it starts (``→ id:job(args)``): here those are
    a person's answers, photo checks and face embeddings, which must never reach a log
    line (they would outlive /forget). The job id and timing stay. (The record may come
    already formatted: the redacting record factory merges its arguments.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 4 and "→" in str(record.msg):
            t, ref, _args, extra = record.args
            record.args = (t, ref, "…", extra)
        elif not record.args and isinstance(record.msg, str) and " → " in record.msg:
            record.msg = _JOB_ARGS.sub(r"\1(…)", record.msg, count=1)
        return True


_JOB_ARGS = re.compile(r"(→ \S+?)\(.*\)", re.S)
logging.getLogger("arq.worker").addFilter(_NoJobData())

FAST_MAX_JOBS = 4
MAX_JOBS = {c.QUEUE_TRAIN: 1}  # one training at a time per worker (it holds the GPU)
# arq rewrites "<queue>:health-check" this often; `python -m sitter.healthcheck worker`
# (the container health check) reads it, so a dead worker shows within a minute.
HEALTH_CHECK_INTERVAL_S = 30
# On SIGTERM running jobs get this long to finish (docker stop waits 10 s by default:
# set stop_grace_period above it); the rest are cancelled and run again elsewhere.
SHUTDOWN_GRACE_S = 25.0


def worker_options(settings: Settings, queue: str) -> dict[str, Any]:
    """arq Worker keyword arguments for one queue (also the WorkerSettings content)."""
    if queue not in QUEUE_JOBS:
        raise ValueError(f"unknown queue {queue!r}: use {' or '.join(QUEUE_JOBS)}")
    return {
        "functions": [
            job_function(name, job_timeout(settings, name)) for name in QUEUE_JOBS[queue]
        ],
        "queue_name": c.queue_name(settings.queue_prefix, queue),
        "redis_settings": redis_settings(settings.redis_url),
        "job_serializer": c.serialize,
        "job_deserializer": c.deserialize,
        "max_jobs": MAX_JOBS.get(queue, FAST_MAX_JOBS)
        if queue != c.QUEUE_GPU
        else settings.generation_concurrency,
        "job_timeout": settings.job_timeout_s,
        "keep_result": settings.result_ttl_s,
        "poll_delay": settings.poll_delay_s,
        "max_tries": MAX_TRIES,
        "log_results": False,  # a result holds embeddings and verdicts: never in a log line
        "handle_signals": False,
        "health_check_interval": HEALTH_CHECK_INTERVAL_S,
    }


class SteadyWorker(Worker):
    """An arq ``Worker`` that waits for Redis instead of exiting when it goes away.

    arq's poll loop raises on the first connection error the client's own retries
    (sitter/queue.py) do not cover, which ended ``sitter worker`` on a Redis restart.
    Here a failed poll is an outage (sitter/outage.py: one warning when it starts, one
    line when it ends) and the loop polls again after ``retry_s``; running jobs keep
    running, and the first poll after Redis is back carries on where it was."""

    retry_s = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from sitter.outage import Outages

        super().__init__(*args, **kwargs)
        self.outages = Outages()

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except Exception as exc:
            if self.burst or not self.outages.failed(exc, f"the {self.queue_name} worker"):
                raise  # a burst run (a script, a test) ends instead of waiting
            await asyncio.sleep(self.retry_s)
            return
        self.outages.passed()


def build_worker(
    settings: Settings,
    queue: str,
    runtime: Runtime,
    *,
    burst: bool = False,
    heartbeat: Heartbeat | None = None,
    serves: tuple[str, ...] = (),
) -> Worker:
    """``serves``: the process's queues (training yields only beside the gpu queue)."""
    opts = worker_options(settings, queue)
    ctx = {"runtime": runtime, "settings": settings, "serves": serves or (queue,)}
    worker = SteadyWorker(**opts, burst=burst, ctx=ctx)
    if heartbeat is not None:
        heartbeat.attach(worker)  # claim each job as it starts, release it as it ends
    chain_after_job_end(worker)  # a job dropped while it ran leaves no result behind
    events.attach(worker, settings.queue_prefix)  # "started" / "done" on the event stream
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
        await events.announce(
            ctx["redis"], settings.queue_prefix, str(ctx["job_id"]), events.What.STARTED
        )

    async def after_job_end(ctx: dict[str, Any]) -> None:
        running.discard(str(ctx["job_id"]))
        with contextlib.suppress(Exception):
            await beats[0].release(str(ctx["job_id"]))
        await drop_unwanted_result(ctx)
        await events.announce(
            ctx["redis"], settings.queue_prefix, str(ctx["job_id"]), events.What.DONE
        )

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
    runtime: Runtime | None = None,
    stop: asyncio.Event | None = None,
    grace_s: float = SHUTDOWN_GRACE_S,
    hurry: asyncio.Event | None = None,
) -> list[Worker]:
    """Serve ``queues`` until ``stop`` is set (or, in burst mode, until they are empty).

    On ``stop`` no new job is taken and running ones get ``grace_s`` to finish;
    any still running then (or at once, when ``hurry`` is set) are cancelled: their
    render stops at its next step, their progress is deleted and arq queues them again.
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
            light = tuple(p for p in parts if p in LIGHT_PARTS)
            await asyncio.to_thread(rt.load, light)
        if c.QUEUE_FAST in queues:
            workers.append(
                build_worker(settings, c.QUEUE_FAST, rt, burst=burst, heartbeat=beat, serves=queues)
            )
            tasks.append(asyncio.create_task(workers[-1].async_run()))
        heavy_queues = [q for q in (c.QUEUE_GPU, c.QUEUE_TRAIN) if q in queues]
        if heavy_queues and runtime is None:
            heavy = tuple(p for p in parts if p not in LIGHT_PARTS)
            await asyncio.to_thread(rt.load, heavy)  # the fast queue already serves
            log.info("models ready: %s", rt.load_seconds)
        for queue in heavy_queues:
            workers.append(
                build_worker(settings, queue, rt, burst=burst, heartbeat=beat, serves=queues)
            )
            tasks.append(asyncio.create_task(workers[-1].async_run()))
        await _beat_now(beat)
    except BaseException:
        await beat.stop()
        await beat.redis.aclose()
        raise
    everything: asyncio.Future[list[Any]] | None = None
    try:
        if stop is None:
            await asyncio.gather(*tasks)
        else:
            # All workers, not the first to end: in burst mode the fast queue may be
            # empty (and its worker done) before the gpu worker has even started.
            # A crash of either still ends the gather at once.
            waiter = asyncio.create_task(stop.wait())
            everything = asyncio.gather(*tasks)
            both: list[asyncio.Future[Any]] = [waiter, everything]
            await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if everything.done():
                everything.result()  # re-raise a worker's crash
            await _drain(workers, grace_s, hurry)
    finally:
        await beat.stop()
        await beat.redis.aclose()
        for w in workers:
            await w.close()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if everything is not None:  # retrieved, so asyncio does not log it as lost at exit
            with contextlib.suppress(asyncio.CancelledError, Exception):
                everything.result()
    return workers


async def _beat_now(beat: Any) -> None:
    beat.state = "serving"
    with contextlib.suppress(Exception):
        await beat.beat()


async def _drain(workers: list[Worker], grace_s: float, hurry: asyncio.Event | None) -> None:
    for w in workers:
        w.allow_pick_jobs = False
    running = [t for w in workers for t in w.tasks.values() if not t.done()]
    if not running or (hurry is not None and hurry.is_set()):
        return
    log.info("stopping: waiting up to %.0fs for %d running job(s)", grace_s, len(running))
    waits: list[asyncio.Future[Any]] = [
        asyncio.ensure_future(asyncio.wait(running, timeout=grace_s))
    ]
    if hurry is not None:
        waits.append(asyncio.ensure_future(hurry.wait()))
    _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for waiting in pending:
        waiting.cancel()


async def serve(
    settings: Settings, queues: tuple[str, ...], *, burst: bool = False, runtime: Any = None
) -> None:
    """``sitter worker`` until a signal. SIGTERM (``docker stop``) lets running jobs finish
    within the grace period; SIGINT (Ctrl-C, and ``sitter run``/``sitter chat`` stopping
    the worker they started) hands them back to the queue at once."""
    stop, hurry = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    def now() -> None:
        hurry.set()
        stop.set()

    loop.add_signal_handler(signal.SIGINT, now)
    try:
        await run_workers(settings, queues, burst=burst, runtime=runtime, stop=stop, hurry=hurry)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def limit_threads(n: int) -> None:
    """Each worker's CPU threads (``SITTER_WORKER_THREADS``; 0: leave torch's default).
    Set before the models load; OpenMP reads the variable when torch first starts it."""
    if n <= 0:
        return
    import os

    os.environ.setdefault("OMP_NUM_THREADS", str(n))
    import torch

    torch.set_num_threads(n)
    log.info("worker: %d CPU thread(s) for torch (SITTER_WORKER_THREADS)", n)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """``sitter worker [--burst] [--queues fast,gpu,train]``."""
    from sitter.observability import configure_logging, start_from_settings

    given = args.queues or default_queues(settings)
    queues = tuple(q.strip() for q in str(given).split(",") if q)
    unknown = [q for q in queues if q not in QUEUE_JOBS]
    if unknown or not queues:
        print(f"unknown queue(s) {', '.join(unknown)}: use fast, gpu, train or a list of them")
        return 2
    configure_logging(settings)
    limit_threads(settings.worker_threads)
    from engine.licences import enforce

    enforce(settings)  # refuse before anything loads (ConfigError: printed by the CLI)
    start_from_settings(settings)

    asyncio.run(serve(settings, queues, burst=bool(args.burst)))
    return 0
