"""Worker heartbeats in Redis: who serves which queue, and which jobs each runs.

A worker process writes, every ``SITTER_WORKER_HEARTBEAT_S`` seconds:

- ``<prefix>:worker:<id>``: JSON (queues, model, pid, host, state, running jobs),
  expiring after three beats, so a killed worker disappears on its own;
- ``<prefix>:claim:<job id>``: the id of the worker running that job, with the
  same expiry (written at once when a job starts, then every beat);
- ``<prefix>:workers-seen``: a hash queue -> unix time of the last beat, kept,
  so "no worker for 12 minutes" can be said.

The bot reads them to fail a photo burst fast when nothing serves the fast queue,
to say so when an order waits with no worker, and to hand a dead worker's job
back to the queue as soon as its claim has expired (:class:`Reclaimer`), not
after arq's in-progress key (the 600 s job timeout) runs out.

Everything here is plain Redis commands on JSON; nothing imports the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from arq.constants import in_progress_key_prefix

log = logging.getLogger(__name__)

BEATS_TO_LIVE = 3  # a worker (or a claim) expires after this many missed beats


def worker_key(prefix: str, worker_id: str) -> str:
    return f"{prefix}:worker:{worker_id}"


def claim_key(prefix: str, job_id: str) -> str:
    return f"{prefix}:claim:{job_id}"


def seen_key(prefix: str) -> str:
    return f"{prefix}:workers-seen"


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    queues: tuple[str, ...]
    state: str  # loading, serving
    model: str
    pid: int
    host: str
    running: tuple[str, ...]


class Heartbeat:
    """Written by a worker process; ``running()`` names the jobs it runs now."""

    def __init__(
        self,
        redis: Any,
        prefix: str,
        queues: Iterable[str],
        interval_s: float,
        *,
        model: str = "",
        running: Callable[[], Iterable[str]] = tuple,
    ):
        self.redis = redis
        self.prefix = prefix
        self.queues = tuple(queues)
        self.interval_s = interval_s
        self.model = model
        self.running = running
        self.state = "loading"
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._task: asyncio.Task[None] | None = None

    @property
    def ttl_ms(self) -> int:
        return max(int(self.interval_s * BEATS_TO_LIVE * 1000), 300)

    async def beat(self) -> None:
        jobs = tuple(self.running())
        body = {
            "id": self.id,
            "queues": list(self.queues),
            "state": self.state,
            "model": self.model,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "running": list(jobs),
            "beat": time.time(),
        }
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.psetex(worker_key(self.prefix, self.id), self.ttl_ms, json.dumps(body))
            if self.state == "serving":
                pipe.hset(seen_key(self.prefix), mapping={q: str(time.time()) for q in self.queues})
            for job_id in jobs:
                pipe.psetex(claim_key(self.prefix, job_id), self.ttl_ms, self.id)
            await pipe.execute()

    async def claim(self, job_id: str) -> None:
        """At the start of a job (arq's ``on_job_start``): claim it before the next beat."""
        await self.redis.psetex(claim_key(self.prefix, job_id), self.ttl_ms, self.id)

    async def serving(self) -> None:
        self.state = "serving"
        await self.beat()

    async def _loop(self) -> None:
        failing = False
        while True:
            try:
                await self.beat()
                if failing:
                    log.info("heartbeat: Redis answers again")
                failing = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not failing:  # one line per outage, not one per beat
                    log.warning("heartbeat: cannot reach Redis (%s); retrying", exc)
                failing = True
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """A clean stop: the worker is gone at once (its claims too)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        with contextlib.suppress(Exception):
            keys = [worker_key(self.prefix, self.id)]
            keys += [claim_key(self.prefix, j) for j in self.running()]
            await self.redis.delete(*keys)


# --- reading them (the bot, doctor) -------------------------------------------------------------
async def live_workers(redis: Any, prefix: str, queue: str | None = None) -> list[WorkerInfo]:
    """Workers whose heartbeat has not expired, optionally only those serving ``queue``."""
    keys = [k async for k in redis.scan_iter(match=worker_key(prefix, "*"), count=200)]
    if not keys:
        return []
    out = []
    for raw in await redis.mget(keys):
        if raw is None:
            continue
        try:
            d = json.loads(raw)
            info = WorkerInfo(
                id=str(d["id"]),
                queues=tuple(d.get("queues", ())),
                state=str(d.get("state", "serving")),
                model=str(d.get("model", "")),
                pid=int(d.get("pid", 0)),
                host=str(d.get("host", "")),
                running=tuple(d.get("running", ())),
            )
        except (ValueError, KeyError, TypeError):
            continue
        if queue is None or queue in info.queues:
            out.append(info)
    return out


async def last_seen(redis: Any, prefix: str, queue: str) -> float | None:
    """Unix time of the last beat of a serving worker on ``queue`` (None: never)."""
    raw = await redis.hget(seen_key(prefix), queue)
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def minutes_ago(then: float | None) -> str:
    if then is None:
        return "no engine worker has been seen yet"
    mins = max(1, int((time.time() - then) // 60))
    return f"no engine worker has been seen for {mins} minute{'s' if mins != 1 else ''}"


class Reclaimer:
    """Hands a job back to its queue once the worker running it is gone.

    arq marks a running job with ``arq:in-progress:<id>`` for the whole job timeout;
    a killed worker leaves it behind and nothing else may take the job until it
    expires. A job that has that key but no live claim, on two looks at least
    ``grace_s`` apart (the claim is written as the job starts, so this only covers
    the instant between arq taking it and the claim), lost its worker: the key is
    deleted and the next free worker takes the job (arq counts the try).
    """

    def __init__(self, redis: Any, prefix: str, grace_s: float):
        self.redis = redis
        self.prefix = prefix
        self.grace_s = grace_s
        self._unclaimed: dict[str, float] = {}

    async def claimed(self, job_id: str) -> bool:
        return bool(await self.redis.exists(claim_key(self.prefix, job_id)))

    async def check(self, job_id: str) -> bool:
        """True when the job was handed back just now."""
        if not await self.redis.hlen(seen_key(self.prefix)):
            return False  # workers here write no heartbeats (an older engine): don't guess
        if not await self.redis.exists(in_progress_key_prefix + job_id) or await self.claimed(
            job_id
        ):
            self._unclaimed.pop(job_id, None)
            return False
        first = self._unclaimed.setdefault(job_id, time.monotonic())
        if time.monotonic() - first < self.grace_s:
            return False
        self._unclaimed.pop(job_id, None)
        await self.redis.delete(in_progress_key_prefix + job_id)
        log.warning("job %s: its worker is gone; handed back to the queue", job_id)
        return True
