"""A typed client for the engine's jobs over arq.

Jobs are addressed by name in arq; this wraps them so callers pass request
models and get result models (or a :class:`JobFailure`) back.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import Job, JobStatus, ResultNotFound, SerializationError
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sitter import contract as c


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


@dataclass(frozen=True)
class JobState:
    status: str  # queued, running, done, missing
    position: int | None = None  # 0 = next, among queued jobs of its queue


class EngineClient:
    """Enqueue engine jobs and wait for their results."""

    def __init__(self, redis: ArqRedis, prefix: str = "sitter", poll_delay: float = 0.02):
        self.redis = redis
        self.prefix = prefix
        self.poll_delay = poll_delay

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

    async def result(self, job: str, handle: Job, timeout: float | None = None) -> c.Message:
        """Wait for a job's result model or :class:`JobFailure`."""
        try:
            raw: Any = await handle.result(timeout=timeout, poll_delay=self.poll_delay)
        except SerializationError as exc:
            raw = exc.args[0] if exc.args else {"__exception__": "SerializationError"}
            if not isinstance(raw, dict):
                raw = {"__exception__": "JobError", "message": str(raw)}
        except ResultNotFound:
            return c.JobFailure(code="lost", message="The job is no longer in the queue.")
        try:
            result = c.parse_result(job, raw)
        except c.ContractError as exc:
            # A newer (or older) engine answered in a shape this bot can't read: a clear
            # failure, never an order stuck in "queued" with a traceback every pass.
            logging.getLogger(__name__).warning("%s %s: %s", job, handle.job_id, exc)
            return c.JobFailure(
                code="bad_result",
                message="the engine's answer could not be read (is the engine a different "
                "version from the bot?)",
            )
        if isinstance(result, c.JobFailure) and (outdated := c.outdated_engine(result)):
            # A worker older than this bot refused what it does not know (sitter/contract.py,
            # rule 5): say so plainly to the operator, and to the person in plain words.
            logging.getLogger(__name__).warning(
                "%s %s: a worker is older than this bot (%s); %s",
                job,
                handle.job_id,
                result.message[:300],
                c.UPGRADE_WORKERS,
            )
            return outdated
        return result

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

    async def drop(self, job_ids: list[str]) -> int:
        """Delete kept results (which hold the job's arguments too) once the bot has
        them, or when their owner asks to be forgotten; queued ones are unqueued."""
        if not job_ids:
            return 0
        keys = [f"{prefix}{j}" for j in job_ids for prefix in (result_key_prefix, job_key_prefix)]
        keys += [c.progress_key(self.prefix, j) for j in job_ids]
        for queue in (c.QUEUE_FAST, c.QUEUE_GPU):
            await self.redis.zrem(c.queue_name(self.prefix, queue), *job_ids)
        return int(await self.redis.delete(*keys))

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

    async def queue_depth(self, queue: str) -> int:
        return int(await self.redis.zcard(c.queue_name(self.prefix, queue)))


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
