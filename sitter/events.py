"""Job events: the worker announces what happened to a job on a Redis stream.

arq's keys stay the truth (a job's result key says it is done); the stream only wakes
the bot at once instead of at its next pass. The worker appends to
``<prefix>:events`` (``XADD``, capped at about :data:`STREAM_LEN` entries):

- ``started`` when a worker takes a job (queue positions behind it move),
- ``progress`` with the job's :class:`sitter.contract.Progress` JSON (engine/progress.py),
- ``done`` once arq has stored the job's result (``after_job_end``).

The bot reads the stream with a blocking ``XREAD`` in a task of its own (the tracker,
bot/studio/jobs/tracking.py) and acts on the job named. An event can be missed (the
bot restarts, the stream is trimmed, Redis fails over): the tracker's slow safety pass
reads arq's keys and catches it. Nothing personal is written: job ids and counts.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

log = logging.getLogger(__name__)

STREAM_LEN = 10_000  # approximate cap (XADD MAXLEN ~): events are read within seconds


class What(StrEnum):
    STARTED = "started"
    PROGRESS = "progress"
    DONE = "done"


def events_key(prefix: str) -> str:
    return f"{prefix}:events"


@dataclass(frozen=True)
class JobEvent:
    job_id: str
    what: What
    body: str = ""  # progress: the Progress JSON


def add_to(pipe: Any, prefix: str, job_id: str, what: What, body: str = "") -> Any:
    """The XADD, queued on a pipeline (or, on a client, an awaitable to await)."""
    fields = {"job": job_id, "what": what.value}
    if body:
        fields["body"] = body
    return pipe.xadd(events_key(prefix), fields, maxlen=STREAM_LEN, approximate=True)


async def announce(redis: Any, prefix: str, job_id: str, what: What, body: str = "") -> None:
    """One event; a failure is logged at debug level only (the safety pass catches it)."""
    try:
        await add_to(redis, prefix, job_id, what, body)
    except Exception as exc:
        log.debug("job event %s %s not announced: %s", what, job_id, exc)


def attach(worker: Any, prefix: str) -> None:
    """Announce ``started`` and ``done`` for every job of an arq ``Worker`` (chained
    after the hooks already set, e.g. the heartbeat's claim and release)."""
    started, ended = worker.on_job_start, worker.after_job_end

    async def on_job_start(ctx: dict[str, Any]) -> None:
        try:
            if started is not None:
                await started(ctx)
        finally:
            await announce(ctx["redis"], prefix, str(ctx["job_id"]), What.STARTED)

    async def after_job_end(ctx: dict[str, Any]) -> None:
        try:
            if ended is not None:
                await ended(ctx)
        finally:
            await announce(ctx["redis"], prefix, str(ctx["job_id"]), What.DONE)

    worker.on_job_start = on_job_start
    worker.after_job_end = after_job_end


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


async def read(redis: Any, prefix: str, last_id: str, block_ms: int) -> tuple[str, list[JobEvent]]:
    """Events after ``last_id`` ("$": only new ones), waiting up to ``block_ms``; returns
    the id to read from next and the events (unknown kinds skipped)."""
    answer = await redis.xread({events_key(prefix): last_id}, count=500, block=block_ms)
    out: list[JobEvent] = []
    for _stream, entries in answer or ():
        for entry_id, fields in entries:
            last_id = _text(entry_id)
            f = {_text(k): _text(v) for k, v in fields.items()}
            with contextlib.suppress(KeyError, ValueError):
                out.append(JobEvent(f["job"], What(f["what"]), f.get("body", "")))
    return last_id, out


async def newest_id(redis: Any, prefix: str) -> str:
    """The id of the newest event ("0-0" when none): reading starts after it."""
    last = await redis.xrevrange(events_key(prefix), count=1)
    return _text(last[0][0]) if last else "0-0"
