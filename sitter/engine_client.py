"""What the studio needs of the engine, as a typed interface.

:class:`Engine` is everything the bot side (bot/studio/) asks of the engine's
queue: enqueue a job, ask where it is, wait for its answer, take it back out,
and whether a worker is there to do it. :class:`sitter.queue.EngineClient`
implements it over arq and Redis; tests/fake_engine.py implements it in memory
so conversation tests need neither Redis nor a worker process. Nothing in the
studio reaches past it into Redis keys.

:func:`read_answer` turns a job's raw answer (arq's stored result, already
unpacked) into a contract model; both implementations use it, so a contract
drift fails the same way in both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from sitter import contract as c

log = logging.getLogger(__name__)


class JobStatus(StrEnum):
    """Where a job is in Redis (arq's keys), as :class:`JobState` says."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    MISSING = "missing"


@dataclass(frozen=True)
class JobState:
    status: str  # a JobStatus: queued, running, done, missing
    position: int | None = None  # 0 = next, among queued jobs of its queue


class JobHandle(Protocol):
    """A queued job, as :meth:`Engine.enqueue` and :meth:`Engine.job` return it."""

    @property
    def job_id(self) -> str: ...


class Engine(Protocol):
    """The engine's queue as the studio uses it (see the module docstring)."""

    @property
    def prefix(self) -> str:
        """The queue namespace; job ids the studio makes start with it."""
        ...

    async def enqueue(self, job: str, request: c.Message, job_id: str | None = None) -> JobHandle:
        """Queue ``request`` for ``job``; the same ``job_id`` twice runs once."""
        ...

    def job(self, job: str, job_id: str) -> JobHandle:
        """A handle on a job queued earlier (by this process or before a restart)."""
        ...

    async def result(self, job: str, handle: JobHandle, timeout: float | None = None) -> c.Message:
        """Wait for the answer: the result model or a :class:`~sitter.contract.JobFailure`.
        Raises ``TimeoutError`` after ``timeout`` seconds."""
        ...

    async def call(
        self,
        job: str,
        request: c.Message,
        job_id: str | None = None,
        timeout: float | None = None,
    ) -> c.Message:
        """Enqueue, wait, and drop the job and its kept result (they hold the request)."""
        ...

    async def state(self, job: str, job_id: str) -> JobState: ...

    async def states(self, jobs: list[tuple[str, str]]) -> dict[str, JobState]:
        """:meth:`state` of many ``(job, job id)`` at once, in a fixed number of round
        trips (every queue position read once): the tracker's pass."""
        ...

    @property
    def announces(self) -> bool:
        """Its workers announce job events (sitter/events.py): the tracker can rest."""
        ...

    async def newest_event(self) -> str:
        """The id of the newest job event; reading starts after it."""
        ...

    async def events(self, last_id: str, block_ms: int) -> tuple[str, list[Any]]:
        """Job events after ``last_id`` (a blocking read of up to ``block_ms``)."""
        ...

    async def progress(self, job_id: str) -> c.Progress | None:
        """How far a running generation (or training: stage "train") is
        (engine/progress.py); None: not running yet,
        finished, or its worker reports none (an older engine)."""
        ...

    async def drop(self, job_ids: list[str]) -> int:
        """Forget jobs and their kept results (queued ones are unqueued); keys deleted."""
        ...

    async def drop_training(self, job_id: str) -> int:
        """Drop a training job (``train_personal``), queued or running, and delete its
        checkpoint (sitter.contract.train_checkpoint_key); keys deleted. A running one
        stops at its next step and leaves nothing."""
        ...

    async def drop_named(self, job_ids: list[str], id_prefix: str) -> int:
        """:meth:`drop` the given jobs and every job whose id starts with ``id_prefix``,
        with their try counters: what /forget and a purge leave of a person. Keys deleted."""
        ...

    async def remove_queued(self, job_id: str) -> bool:
        """Take a generation out of its queue if no worker has it yet; True when removed."""
        ...

    async def queue_depth(self, queue: str) -> int: ...

    async def workers_alive(self, queue: str) -> bool:
        """A worker's heartbeat is there for ``queue`` (loading counts: it is coming).
        False when the queue itself cannot be reached."""
        ...

    async def last_seen(self, queue: str) -> float | None:
        """Unix time of the last beat of a serving worker on ``queue`` (None: never)."""
        ...

    async def orphaned(self, job_id: str) -> bool:
        """The job is running, a heartbeating worker claimed it, and that worker is gone."""
        ...

    async def reclaim(self, job_id: str) -> bool:
        """Hand an orphaned job back to its queue; True when it was handed back now."""
        ...

    async def ping(self) -> None:
        """Raises when the queue cannot be reached (an outage), else returns."""
        ...


def read_answer(job: str, job_id: str, raw: Any) -> c.Message:
    """A job's unpacked answer as its result model or a :class:`JobFailure`.

    An answer this bot cannot read (another contract version) and a refusal from a
    worker older than the bot both become a plain failure, logged for the operator."""
    try:
        result = c.parse_result(job, raw)
    except c.ContractError as exc:
        # A newer (or older) engine answered in a shape this bot can't read: a clear
        # failure, never an order stuck in "queued" with a traceback every pass.
        log.warning("%s %s: %s", job, job_id, exc)
        return c.JobFailure(
            code="bad_result",
            message="the engine's answer could not be read (is the engine a different "
            "version from the bot?)",
        )
    if isinstance(result, c.JobFailure) and (outdated := c.outdated_engine(result)):
        # A worker older than this bot refused what it does not know (sitter/contract.py,
        # rule 5): say so plainly to the operator, and to the person in plain words.
        log.warning(
            "%s %s: a worker is older than this bot (%s); %s",
            job,
            job_id,
            result.message[:300],
            c.UPGRADE_WORKERS,
        )
        return outdated
    return result
