"""Worker heartbeats in Redis: who serves which queue, and which jobs each runs.

A worker process writes, every ``SITTER_WORKER_HEARTBEAT_S`` seconds:

- ``<prefix>:worker:<id>``: JSON (queues, model, pid, host, state, running jobs),
  expiring after three beats, so a killed worker disappears on its own;
- ``<prefix>:claim:<job id>``: the id of the worker that took that job, written
  when the job starts and removed when it ends; it outlives the worker (a day at
  most), so a dead worker's job can be told from one no heartbeating worker took;
- ``<prefix>:workers-seen``: a hash queue -> unix time of the last beat, kept,
  so "no worker for 12 minutes" can be said;
- ``<prefix>:workers``: a sorted set, worker id -> unix time its key expires, so a
  reader finds the live workers in one round trip instead of a SCAN over the whole
  database (which grows with the queue: arq keeps a key per queued job).

The bot reads them to fail a photo burst fast when nothing serves the fast queue,
to say so when an order waits with no worker, and to hand a dead worker's job
back to the queue as soon as that worker's own key has expired (:class:`Reclaimer`),
not after arq's in-progress key (the 600 s job timeout) runs out. A job is handed
back only when a heartbeating worker claimed it and that worker is gone: a slow job
on a live worker, and any job of a worker that writes no heartbeat (an older
engine), is left to run.

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
from typing import TYPE_CHECKING, Any

from arq.constants import in_progress_key_prefix

if TYPE_CHECKING:
    from arq.worker import Worker

log = logging.getLogger(__name__)

BEATS_TO_LIVE = 3  # a worker expires after this many missed beats
CLAIM_TTL_S = 86_400  # a claim outlives any job (arq's in-progress key: the job timeout)


def worker_key(prefix: str, worker_id: str) -> str:
    return f"{prefix}:worker:{worker_id}"


def claim_key(prefix: str, job_id: str) -> str:
    return f"{prefix}:claim:{job_id}"


def seen_key(prefix: str) -> str:
    return f"{prefix}:workers-seen"


def registry_key(prefix: str) -> str:
    """A sorted set: worker id -> unix time its heartbeat expires (read without SCAN)."""
    return f"{prefix}:workers"


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
        now = time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.psetex(worker_key(self.prefix, self.id), self.ttl_ms, json.dumps(body))
            pipe.zadd(registry_key(self.prefix), {self.id: now + self.ttl_ms / 1000})
            pipe.zremrangebyscore(registry_key(self.prefix), "-inf", now - 60)
            if self.state == "serving":
                pipe.hset(seen_key(self.prefix), mapping={q: str(time.time()) for q in self.queues})
            for job_id in jobs:  # a claim whose write failed at the start (NX: never
                # over another worker's, which took the job while this one was cut off)
                pipe.set(claim_key(self.prefix, job_id), self.id, ex=CLAIM_TTL_S, nx=True)
            await pipe.execute()

    async def claim(self, job_id: str) -> None:
        """At the start of a job (arq's ``on_job_start``)."""
        await self.redis.set(claim_key(self.prefix, job_id), self.id, ex=CLAIM_TTL_S)

    async def release(self, job_id: str) -> None:
        """At the end of a job (arq's ``after_job_end``): its claim, if still ours."""
        await self.redis.eval(_RELEASE, 1, claim_key(self.prefix, job_id), self.id)

    def attach(self, worker: Worker) -> None:
        """Claim and release every job of an arq ``Worker`` (Redis down: arq says so)."""

        async def on_job_start(ctx: dict[str, Any]) -> None:
            with contextlib.suppress(Exception):
                await self.claim(str(ctx["job_id"]))

        async def after_job_end(ctx: dict[str, Any]) -> None:
            with contextlib.suppress(Exception):
                await self.release(str(ctx["job_id"]))

        worker.on_job_start = on_job_start
        worker.after_job_end = after_job_end

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
        """A clean stop: the worker is gone at once. Claims of jobs still running stay,
        naming a worker that is gone, so those jobs are handed back at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        with contextlib.suppress(Exception):
            await self.redis.delete(worker_key(self.prefix, self.id))
            await self.redis.zrem(registry_key(self.prefix), self.id)


# --- reading them (the bot, doctor) -------------------------------------------------------------
async def live_workers(redis: Any, prefix: str, queue: str | None = None) -> list[WorkerInfo]:
    """Workers whose heartbeat has not expired, optionally only those serving ``queue``.

    Two round trips whatever the size of the queue: the registry, then the workers'
    keys. Only when no worker ever wrote the registry (an older engine) are the keys
    found by a SCAN."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zrangebyscore(registry_key(prefix), time.time(), "+inf")
        pipe.exists(registry_key(prefix))
        ids, known = await pipe.execute()
    if known:
        keys = [worker_key(prefix, i.decode() if isinstance(i, bytes) else str(i)) for i in ids]
    else:
        keys = [k async for k in redis.scan_iter(match=worker_key(prefix, "*"), count=2000)]
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


async def orphaned(redis: Any, prefix: str, job_id: str) -> bool:
    """The job is marked running, a heartbeating worker claimed it, and that worker is gone."""
    worker = await redis.get(claim_key(prefix, job_id))
    if worker is None or not await redis.exists(in_progress_key_prefix + job_id):
        return False
    wid = worker.decode() if isinstance(worker, bytes) else str(worker)
    return not await redis.exists(worker_key(prefix, wid))


# Release a claim only if it is still this worker's; hand a job back only if its claim
# names a worker whose key has expired (one atomic step: two bots never hand back a job
# another worker has just taken).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_HAND_BACK = """
local worker = redis.call('GET', KEYS[2])
if not worker or redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('EXISTS', ARGV[1] .. worker) == 1 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
"""


class Reclaimer:
    """Hands a job back to its queue once the worker that claimed it is gone.

    arq marks a running job with ``arq:in-progress:<id>`` for the whole job timeout;
    a killed worker leaves it behind and nothing else may take the job until it
    expires. A job whose claim names a worker whose ``worker:<id>`` key has expired
    (three missed beats) lost its worker: the in-progress key and the claim are
    deleted and the next free worker takes the job (arq counts the try). Nothing
    else is ever handed back: no claim (an older engine, or the instant between arq
    taking a job and its claim) means arq's own timeout decides. It keeps no state.
    """

    def __init__(self, redis: Any, prefix: str):
        self.redis = redis
        self.prefix = prefix

    async def check(self, job_id: str) -> bool:
        """True when the job was handed back just now."""
        keys = (in_progress_key_prefix + job_id, claim_key(self.prefix, job_id))
        if not await self.redis.eval(_HAND_BACK, 2, *keys, worker_key(self.prefix, "")):
            return False
        log.warning("job %s: its worker is gone; handed back to the queue", job_id)
        return True
