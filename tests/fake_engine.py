"""An in-memory :class:`sitter.engine_client.Engine` for conversation tests.

What is real: every request and answer crosses the same bytes as on the queue.
A job is packed with arq's own envelope and the contract's serializer
(``c.serialize``), unpacked and validated the way a worker does
(``c.parse_request``), answered as a plain dict packed by the contract's
serializer (which re-shapes it for the asking bot's contract version), and read
back through :func:`sitter.engine_client.read_answer`, as
:class:`sitter.queue.EngineClient` reads it. So a contract drift still fails here.
Photos are decoded by the engine's real intake (``engine/intake.py``): a text
file, an empty, damaged, tiny or oversized picture gets the engine's own refusal.

What is faked (the answers are tests/fake_answers.py's): there is no face detector
and no model. What a decodable photo
shows comes from a table the test fills (:meth:`FakeEngine.show`): a photo's
sha256 -> the person in it and how many faces. A photo the test did not describe
shows no face. A person's embedding is a fixed random unit vector named by the
person (cosine ~1 between photos of one person, ~0 between people), so the set
check, the "different person" refusal and protected faces follow the real rules
(median similarity, one threshold) on those vectors. Portraits are flat Pillow
PNGs, one per seed; upscale resizes; label draws the text; a prompt "fits" while
it has at most :attr:`FakeEngine.prompt_limit` words (no tokenizer here).

The worker is one per queue, first in first out, and moves only when the studio
looks: each :meth:`state` answers first and then lets that queue's worker make one
move (take the next job, or finish the one it has), so a new order reads "queued",
the next look "running", the one after "done". :meth:`result` works the queue
until the job is done or ``timeout`` passes (``TimeoutError``, as arq raises).
A test controls it through plain attributes and methods: ``serving`` and
``alive`` per queue, :meth:`stop`, :meth:`kill`, :meth:`start`, ``delay`` per job
(seconds a job takes once started), :meth:`fail_next`, :meth:`lose`, ``down``
(Redis unreachable), ``handlers`` (what a job answers), ``prompt_limit``; it reads
``ran`` (the jobs that ran) and ``queued(queue)``. A running generation reports its
progress (:meth:`progress`) as the real worker does: ``steps`` denoising steps spread
evenly over its ``delay``, all variations in one batch; ``reports_progress = False``
is an older engine that reports none.

Not faked at all: retries after a worker crash (arq's tries), several workers on one
queue, job timeouts, Redis restarts, heartbeat timing. Those stay with the tests on
the real worker and the stand-in worker process (tests/studio_engine.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from arq.jobs import deserialize_job, deserialize_result, serialize_job, serialize_result
from fake_answers import HANDLERS, Seen

from sitter import contract as c
from sitter.engine_client import JobState, read_answer


@dataclass(frozen=True)
class Handle:
    job_id: str


@dataclass
class _Job:
    name: str
    queue: str
    blob: bytes  # arq's packed job
    status: str = "queued"  # queued, running, done
    ready_at: float = 0.0  # loop time it finishes once running
    answer: bytes | None = None  # arq's packed result
    orphan: bool = False  # running when its worker was killed
    started_at: float = 0.0  # loop time a worker took it


class FakeEngine:
    """See the module docstring. ``prefix`` names job ids as the real client's does."""

    def __init__(self, prefix: str = "fake") -> None:
        self.prefix = prefix
        self.jobs: dict[str, _Job] = {}
        # a worker takes its jobs / its heartbeat is there
        self.serving = {c.QUEUE_FAST: True, c.QUEUE_GPU: True, c.QUEUE_TRAIN: True}
        self.alive = {c.QUEUE_FAST: True, c.QUEUE_GPU: True, c.QUEUE_TRAIN: True}
        self.seen_at: dict[str, float] = {q: time.time() for q in self.serving}
        self.delay: dict[str, float] = {}  # job name -> seconds it takes once started
        self.failures: dict[str, list[c.JobFailure]] = defaultdict(list)
        self.down = False  # Redis unreachable: every call raises ConnectionError
        self.photos: dict[str, Seen] = {}  # sha256 of a photo -> what it shows
        self.prompt_limit: int | None = None  # words; None: every prompt fits
        self.screen_refusals: dict[str, str] = {}  # phrase -> category the screen refuses
        self.steps = 8  # denoising steps a generation reports (spread over its delay)
        self.train_steps = 100  # training steps a train job reports (spread over its delay)
        self.checkpoints: set[str] = set()  # job ids of training jobs with a checkpoint
        self.reports_progress = True  # False: an older engine, no progress at all
        self.fingerprints = True  # False: an older engine, photos without a fingerprint
        self.ran: list[tuple[str, str]] = []  # (job, job id) in the order they finished
        # job name -> fn(engine, request) -> a contract model, or a plain dict (as a worker
        # of another version might answer: it crosses the serializer as it is)
        self.handlers: dict[str, Any] = dict(HANDLERS)
        self.asked: list[c.GenerateRequest] = []  # every generation request, in order
        self._ids = 0

    # --- the test's controls ---------------------------------------------------------------
    def show(self, photos: Iterable[Any], person: str | None, faces: int = 1) -> None:
        """Photos (bytes or IncomingFile) that show ``person`` (None: no face), ``faces``
        faces in all."""
        for p in photos:
            data = p if isinstance(p, bytes) else p.data
            self.photos[hashlib.sha256(data).hexdigest()] = Seen(person, faces)

    def show_pet(self, photos: Iterable[Any], name: str, species: str = "cat") -> None:
        """Photos (bytes or IncomingFile) of one pet: ``name`` (its identity), a cat or a dog."""
        for p in photos:
            data = p if isinstance(p, bytes) else p.data
            self.photos[hashlib.sha256(data).hexdigest()] = Seen(name, 1, species)

    def stop(self) -> None:
        """A clean stop of every worker: jobs wait, heartbeats are gone at once."""
        for q in self.serving:
            self.serving[q] = self.alive[q] = False
            self.seen_at[q] = time.time()

    def kill(self) -> None:
        """kill -9: as :meth:`stop`, and the jobs they were running are orphaned."""
        self.stop()
        for j in self.jobs.values():
            j.orphan = j.orphan or j.status == "running"

    def start(self) -> None:
        for q in self.serving:
            self.serving[q] = self.alive[q] = True
            self.seen_at[q] = time.time()

    def fail_next(self, job: str, code: str, message: str) -> None:
        """The next ``job`` to run answers this failure instead."""
        self.failures[job].append(c.JobFailure(code=code, message=message))

    def lose(self, job_id: str) -> None:
        """Redis forgets the job (its result expired, a flush): it reads "missing"."""
        self.jobs.pop(job_id, None)

    def queued(self, queue: str) -> list[str]:
        return [i for i, j in self.jobs.items() if j.queue == queue and j.status == "queued"]

    # --- the Engine interface --------------------------------------------------------------
    def _check(self) -> None:
        if self.down:
            raise ConnectionError("Redis is unreachable (fake)")

    async def enqueue(self, job: str, request: c.Message, job_id: str | None = None) -> Handle:
        self._check()
        if not isinstance(request, c.REQUESTS[job]):
            raise TypeError(f"{job} takes {c.REQUESTS[job].__name__}, not {type(request).__name__}")
        if job_id is None:
            self._ids += 1
            job_id = f"{self.prefix}-job{self._ids}"
        if job_id not in self.jobs:
            blob = serialize_job(
                job, (c.to_wire(request),), {}, None, _ms(), serializer=c.serialize
            )
            self.jobs[job_id] = _Job(job, c.queue_for(job), blob)
        return Handle(job_id)

    def job(self, job: str, job_id: str) -> Handle:
        return Handle(job_id)

    async def result(self, job: str, handle: Any, timeout: float | None = None) -> c.Message:
        self._check()
        loop = asyncio.get_running_loop()
        end = None if timeout is None else loop.time() + timeout
        while True:
            j = self.jobs.get(handle.job_id)
            if j is None:
                return c.JobFailure(code="lost", message="The job is no longer in the queue.")
            if j.status == "done" and j.answer is not None:
                raw = deserialize_result(j.answer, deserializer=c.deserialize).result
                return read_answer(job, handle.job_id, raw)
            if end is not None and loop.time() >= end:
                raise TimeoutError(f"{job} {handle.job_id}: no answer in {timeout} s")
            if not self._move(j.queue):
                await asyncio.sleep(0.005)

    async def call(
        self,
        job: str,
        request: c.Message,
        job_id: str | None = None,
        timeout: float | None = None,
    ) -> c.Message:
        handle = await self.enqueue(job, request, job_id)
        try:
            return await self.result(job, handle, timeout)
        finally:
            await self.drop([handle.job_id])

    async def state(self, job: str, job_id: str) -> JobState:
        self._check()
        j = self.jobs.get(job_id)
        if j is None:
            return JobState("missing")
        answer = JobState(j.status)
        if j.status == "queued":
            answer = JobState("queued", self.queued(j.queue).index(job_id))
        self._move(j.queue)  # the worker moves between two looks
        return answer

    async def states(self, jobs: list[tuple[str, str]]) -> dict[str, JobState]:
        """As the real client's one read for many jobs; here each is looked at in turn
        (each look lets the worker move, as :meth:`state` does)."""
        return {job_id: await self.state(job, job_id) for job, job_id in jobs}

    announces = False  # no job events: the tracker's pass polls every tick

    async def newest_event(self) -> str:
        return "0-0"

    async def events(self, last_id: str, block_ms: int) -> tuple[str, list[Any]]:
        await asyncio.sleep(block_ms / 1000)
        return last_id, []

    async def progress(self, job_id: str) -> c.Progress | None:
        self._check()
        j = self.jobs.get(job_id)
        if j is None or j.status != "running" or j.name not in (c.JOB_GENERATE, c.JOB_TRAIN):
            return None
        if not self.reports_progress:
            return None
        took = self.delay.get(j.name, 0.0)
        now = asyncio.get_running_loop().time()
        share = 1.0 if took <= 0 else min(1.0, (now - j.started_at) / took)
        if j.name == c.JOB_TRAIN:
            return c.Progress(
                stage="train",
                step=int(share * self.train_steps),
                steps=self.train_steps,
                seconds_left=max(0.0, took - (now - j.started_at)),
            )
        req = c.parse_request(j.name, deserialize_job(j.blob, deserializer=c.deserialize).args[0])
        seeds = req.seeds  # type: ignore[attr-defined]
        return c.Progress(
            stage="render",
            variations=list(range(1, len(seeds) + 1)),
            of=len(seeds),
            step=int(share * self.steps),
            steps=self.steps,
        )

    async def drop(self, job_ids: list[str]) -> int:
        self._check()
        self.checkpoints -= set(job_ids)
        return sum(self.jobs.pop(i, None) is not None for i in job_ids)

    async def drop_training(self, job_id: str) -> int:
        """As the real client: the job (queued or running) and its checkpoint go."""
        return await self.drop([job_id])

    async def drop_named(self, job_ids: list[str], id_prefix: str) -> int:
        self._check()
        self.checkpoints = {j for j in self.checkpoints if not j.startswith(id_prefix)}
        named = [i for i in self.jobs if i.startswith(id_prefix)]
        return await self.drop(sorted({*job_ids, *named}))

    async def remove_queued(self, job_id: str) -> bool:
        self._check()
        j = self.jobs.get(job_id)
        if j is None or j.queue != c.QUEUE_GPU or j.status != "queued":
            return False
        del self.jobs[job_id]
        return True

    async def queue_depth(self, queue: str) -> int:
        self._check()
        return sum(1 for j in self.jobs.values() if j.queue == queue and j.status != "done")

    async def workers_alive(self, queue: str) -> bool:
        return not self.down and self.alive[queue]

    async def last_seen(self, queue: str) -> float | None:
        self._check()
        return self.seen_at.get(queue)

    async def orphaned(self, job_id: str) -> bool:
        self._check()
        j = self.jobs.get(job_id)
        return j is not None and j.status == "running" and j.orphan

    async def reclaim(self, job_id: str) -> bool:
        if not await self.orphaned(job_id):
            return False
        j = self.jobs[job_id]
        j.status, j.orphan = "queued", False
        return True

    async def ping(self) -> None:
        self._check()

    # --- the worker ------------------------------------------------------------------------
    def _move(self, queue: str) -> bool:
        """One move of ``queue``'s worker; True when it moved."""
        if not self.serving[queue]:
            return False
        now = asyncio.get_running_loop().time()
        running = [j for j in self.jobs.values() if j.queue == queue and j.status == "running"]
        if running:
            j = running[0]
            if j.orphan or now < j.ready_at:
                return False
            self._finish(j)
            return True
        waiting = [j for j in self.jobs.values() if j.queue == queue and j.status == "queued"]
        if not waiting:
            return False
        j = waiting[0]
        j.status, j.ready_at = "running", now + self.delay.get(j.name, 0.0)
        j.started_at = now
        if j.name == c.JOB_TRAIN:
            self.checkpoints.add(next(i for i, x in self.jobs.items() if x is j))
        return True

    def _finish(self, j: _Job) -> None:
        jd = deserialize_job(j.blob, deserializer=c.deserialize)
        try:
            req = c.parse_request(j.name, jd.args[0])
        except c.ContractError as exc:
            answer: Any = c.JobFailure(code="bad_request", message=str(exc))
        else:
            pending = self.failures.get(j.name)
            answer = pending.pop(0) if pending else self.handlers[j.name](self, req)
        job_id = next(i for i, x in self.jobs.items() if x is j)
        blob = serialize_result(
            j.name,
            tuple(jd.args),
            {},
            1,
            _ms(),
            True,
            answer.model_dump() if isinstance(answer, c.Message) else answer,
            _ms(),
            _ms(),
            j.name,
            j.queue,
            job_id,
            serializer=c.serialize,
        )
        assert blob is not None, f"{j.name}: the answer could not be packed"
        j.status, j.answer = "done", blob
        self.checkpoints.discard(job_id)  # a training job's checkpoint goes when it ends
        self.ran.append((j.name, job_id))


def _ms() -> int:
    return int(time.time() * 1000)
