"""Which arq job a job's work runs for, made current for its thread (a context variable,
copied by ``asyncio.to_thread`` as engine/progress.py's reporter is): the job id, the
queue namespace, the Redis URL and the queues this worker process serves. Work that
needs Redis from its thread (a training's checkpoints, its yielding to waiting orders)
reads it; outside a worker (``sitter train``, tests) nothing is current.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JobContext:
    job_id: str
    prefix: str
    redis_url: str
    job_try: int
    serves: tuple[str, ...]  # the queues this worker process serves
    settings: Any = None  # the worker's settings (sitter.config.Settings)


_current: ContextVar[JobContext | None] = ContextVar("sitter_job", default=None)


def bind(ctx: dict[str, Any]) -> Token[JobContext | None] | None:
    """Make the arq job in ``ctx`` current; None outside a worker."""
    settings, job_id = ctx.get("settings"), ctx.get("job_id")
    if settings is None or job_id is None:
        return None
    return _current.set(
        JobContext(
            job_id=str(job_id),
            prefix=settings.queue_prefix,
            redis_url=settings.redis_url,
            job_try=int(ctx.get("job_try", 1)),
            serves=tuple(ctx.get("serves", ())),
            settings=settings,
        )
    )


def unbind(token: Token[JobContext | None] | None) -> None:
    if token is not None:
        _current.reset(token)


def current() -> JobContext | None:
    return _current.get()
