"""A typed client for the engine's jobs over arq.

Jobs are addressed by name in arq; this wraps them so callers pass request
models and get result models (or a :class:`JobFailure`) back. It implements
:class:`sitter.engine_client.Engine`, the interface the studio uses.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import (
    in_progress_key_prefix,
    job_key_prefix,
    result_key_prefix,
    retry_key_prefix,
)
from arq.jobs import Job, JobStatus, ResultNotFound, SerializationError
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sitter import contract as c
from sitter.engine_client import Engine, JobHandle, JobState, read_answer
from sitter.events import JobEvent

__all__ = ["Engine", "EngineClient", "JobHandle", "JobState", "connect", "redis_settings"]


def redis_settings(url: str) -> RedisSettings:
    """Settings that ride out a Redis restart: commands retry with backoff for ~5 s."""
    settings = RedisSettings.from_dsn(url)
    settings.retry_on_error = [RedisConnectionError, RedisTimeoutError]
    settings.retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), 20)
    return settings


async def connect(url: str, prefix: str = "sitter") -> ArqRedis:
    return await create_pool(
        redis_settings(url),
        job_serializer=c.serialize,
        job_deserializer=c.deserialize,
        default_queue_name=c.queue_name(prefix, c.QUEUE_FAST),
    )


RUNNING_WINDOW = 256  # more jobs than this never run at once from one queue


class EngineClient:
    """Enqueue engine jobs and wait for their results (an :class:`Engine` over arq)."""

    def __init__(self, redis: ArqRedis, prefix: str = "sitter", poll_delay: float = 0.02):
        self.redis = redis
        self.prefix = prefix
        self.poll_delay = poll_delay
        self._listener: Any = None

    def _queue(self, job: str) -> str:
        return c.queue_name(self.prefix, c.queue_for(job))

    async def enqueue(self, job: str, request: c.Message, job_id: str | None = None) -> Job:
        """Enqueue ``request``; with a ``job_id`` the same call twice runs once.

        When the id is already queued, running or has a kept result, the
        existing job is returned instead of a new one.
        """
        if not isinstance(request, c.REQUESTS[job]):
            raise TypeError(f"{job} takes {c.REQUESTS[job].__name__}, not {type(request).__name__}")
        queue = self._queue(job)
        created = await self.redis.enqueue_job(
            job, c.to_wire(request), _job_id=job_id, _queue_name=queue
        )
        if created is not None:
            return created
        assert job_id is not None
        return Job(job_id, self.redis, _queue_name=queue, _deserializer=c.deserialize)

    def job(self, job: str, job_id: str) -> Job:
        return Job(job_id, self.redis, _queue_name=self._queue(job), _deserializer=c.deserialize)

    async def result(self, job: str, handle: JobHandle, timeout: float | None = None) -> c.Message:
        """Wait for a job's result model or :class:`JobFailure`."""
        if not isinstance(handle, Job):
            handle = self.job(job, handle.job_id)
        try:
            raw: Any = await handle.result(timeout=timeout, poll_delay=self.poll_delay)
        except SerializationError as exc:
            raw = exc.args[0] if exc.args else {"__exception__": "SerializationError"}
            if not isinstance(raw, dict):
                raw = {"__exception__": "JobError", "message": str(raw)}
        except ResultNotFound:
            return c.JobFailure(code="lost", message="The job is no longer in the queue.")
        return read_answer(job, handle.job_id, raw)

    async def call(
        self, job: str, request: c.Message, job_id: str | None = None, timeout: float | None = None
    ) -> c.Message:
        """Enqueue and wait. The job and its kept result (which hold the request: a
        photo, a crop, embeddings) leave Redis as soon as the answer is read, or
        once waiting for it is given up."""
        handle = await self.enqueue(job, request, job_id)
        try:
            return await self.result(job, handle, timeout)
        finally:
            await self.drop([handle.job_id])

    async def state(self, job: str, job_id: str) -> JobState:
        handle = self.job(job, job_id)
        status = await handle.status()
        if status in (JobStatus.deferred, JobStatus.queued):
            rank = await self.redis.zrank(self._queue(job), job_id)
            return JobState("queued", rank)
        if status == JobStatus.in_progress:
            return JobState("running")
        if status == JobStatus.complete:
            return JobState("done")
        return JobState("missing")

    async def states(self, jobs: list[tuple[str, str]]) -> dict[str, JobState]:
        """Where each ``(job, job id)`` is, as :meth:`state` says, for many jobs in two
        round trips: each queue's order is read once (``ZRANGE``: every queued job's
        position at once), then one pipeline asks whether the jobs at the head of a
        queue run (arq keeps a running job in its queue until it ends) and whether each
        job not in a queue has a result or runs. Jobs further back than
        :data:`RUNNING_WINDOW` are queued: no worker takes a job from there."""
        if not jobs:
            return {}
        queues = sorted({self._queue(job) for job, _ in jobs})
        async with self.redis.pipeline(transaction=False) as pipe:
            for q in queues:
                pipe.zrange(q, 0, -1)
            orders = await pipe.execute()
        rank: dict[str, int] = {}
        for ids in orders:
            for i, raw in enumerate(ids):
                rank[raw.decode() if isinstance(raw, bytes) else str(raw)] = i
        head = [j for _, j in jobs if rank.get(j, RUNNING_WINDOW) < RUNNING_WINDOW]
        gone = [j for _, j in jobs if j not in rank]
        async with self.redis.pipeline(transaction=False) as pipe:
            for job_id in head:
                pipe.exists(in_progress_key_prefix + job_id)
            for job_id in gone:
                pipe.exists(result_key_prefix + job_id)
                pipe.exists(in_progress_key_prefix + job_id)
            flags = await pipe.execute() if head or gone else []
        out = {j: JobState("queued", rank[j]) for _, j in jobs if j in rank}
        for n, job_id in enumerate(head):
            if flags[n]:
                out[job_id] = JobState("running")
        base = len(head)
        for n, job_id in enumerate(gone):
            done, running = flags[base + 2 * n], flags[base + 2 * n + 1]
            out[job_id] = JobState("done" if done else "running" if running else "missing")
        return out

    # --- the workers' job events (sitter/events.py) --------------------------------------------
    announces = True  # this engine's workers announce job events: the tracker can rest

    async def newest_event(self) -> str:
        from sitter.events import newest_id

        return await newest_id(self.redis, self.prefix)

    async def events(self, last_id: str, block_ms: int) -> tuple[str, list[JobEvent]]:
        """Job events after ``last_id``, waiting up to ``block_ms`` for one (on a
        connection of its own: a blocking read must not hold up the bot's other calls)."""
        from sitter.events import read

        if self._listener is None:
            self._listener = self.redis.client()
        return await read(self._listener, self.prefix, last_id, block_ms)

    async def close_events(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            with contextlib.suppress(Exception):
                await listener.aclose()

    async def drop(self, job_ids: list[str]) -> int:
        """Delete kept results (which hold the job's arguments too) once the bot has
        them, or when their owner asks to be forgotten; queued ones are unqueued."""
        if not job_ids:
            return 0
        keys = [f"{prefix}{j}" for j in job_ids for prefix in (result_key_prefix, job_key_prefix)]
        keys += [c.progress_key(self.prefix, j) for j in job_ids]
        keys += [c.train_checkpoint_key(self.prefix, j) for j in job_ids]
        for queue in (c.QUEUE_FAST, c.QUEUE_GPU, c.QUEUE_TRAIN):
            await self.redis.zrem(c.queue_name(self.prefix, queue), *job_ids)
        return int(await self.redis.delete(*keys))

    async def drop_training(self, job_id: str) -> int:
        """Drop a training job (queued or running) and delete its checkpoint: a running
        trainer sees its job gone within a second and stops at its next step, writing no
        checkpoint after that (engine/training/checkpoint.py); keys deleted."""
        return await self.drop([job_id])

    async def progress(self, job_id: str) -> c.Progress | None:
        """How far a running generation is (engine/progress.py); None: not running, not
        started yet, or its worker reports none (an older one)."""
        raw = await self.redis.get(c.progress_key(self.prefix, job_id))
        if raw is None:
            return None
        try:
            return c.Progress.model_validate_json(raw)
        except ValueError:
            return None

    async def drop_named(self, job_ids: list[str], id_prefix: str) -> int:
        ids = set(job_ids)
        for key_prefix in (job_key_prefix, result_key_prefix, retry_key_prefix):
            match = key_prefix + id_prefix + "*"
            async for key in self.redis.scan_iter(match=match, count=500):
                text = key.decode() if isinstance(key, bytes) else str(key)
                ids.add(text[len(key_prefix) :])
        checkpoints = c.train_checkpoint_key(self.prefix, "")
        async for key in self.redis.scan_iter(match=checkpoints + id_prefix + "*", count=500):
            text = key.decode() if isinstance(key, bytes) else str(key)
            ids.add(text[len(checkpoints) :])
        if not ids:
            return 0
        n = await self.drop(sorted(ids))
        return n + int(await self.redis.delete(*(retry_key_prefix + j for j in ids)))

    async def remove_queued(self, job_id: str) -> bool:
        if await self.redis.exists(in_progress_key_prefix + job_id):
            return False  # a worker has it; arq keeps running jobs in the queue set too
        queue = c.queue_name(self.prefix, c.QUEUE_GPU)
        removed = int(await self.redis.zrem(queue, job_id))
        if removed:
            await self.redis.delete(job_key_prefix + job_id)
        return bool(removed)

    async def queue_depth(self, queue: str) -> int:
        return int(await self.redis.zcard(c.queue_name(self.prefix, queue)))

    # --- the workers' heartbeats (sitter/heartbeat.py) ---------------------------------------
    async def workers_alive(self, queue: str) -> bool:
        from sitter.heartbeat import live_workers

        try:
            return bool(await live_workers(self.redis, self.prefix, queue))
        except Exception:
            return False  # Redis itself is down: the engine can't be reached either

    async def last_seen(self, queue: str) -> float | None:
        from sitter.heartbeat import last_seen

        return await last_seen(self.redis, self.prefix, queue)

    async def orphaned(self, job_id: str) -> bool:
        from sitter.heartbeat import orphaned

        return await orphaned(self.redis, self.prefix, job_id)

    async def reclaim(self, job_id: str) -> bool:
        from sitter.heartbeat import Reclaimer

        return await Reclaimer(self.redis, self.prefix).check(job_id)

    async def ping(self) -> None:
        await self.redis.ping()


def redact(url: str) -> str:
    """The URL without its password (either form): see :func:`sitter.redact.redact_url`."""
    from sitter.redact import redact_url

    return redact_url(url)


async def ping(url: str, timeout: float = 1.0) -> bool:
    """True when a Redis answers at ``url``."""
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(await asyncio.wait_for(client.ping(), timeout))
    except Exception:
        return False
    finally:
        await client.aclose()
