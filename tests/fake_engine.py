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

What is faked: there is no face detector and no model. What a decodable photo
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
``ran`` (the jobs that ran) and ``queued(queue)``.

Not faked at all: retries after a worker crash (arq's tries), several workers on one
queue, job timeouts, Redis restarts, heartbeat timing. Those stay with the tests on
the real worker and the stand-in worker process (tests/studio_engine.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from arq.jobs import deserialize_job, deserialize_result, serialize_job, serialize_result
from PIL import Image, ImageDraw

from sitter import contract as c
from sitter.engine_client import JobState, read_answer

THRESHOLD = 0.5  # same person at or above this cosine similarity
BACKEND = "fake"
DIMS = 32


@dataclass(frozen=True)
class Handle:
    job_id: str


@dataclass(frozen=True)
class Seen:
    """What the fake's analysis "sees" in one photo."""

    person: str | None  # None: no face
    faces: int = 1


@dataclass
class _Job:
    name: str
    queue: str
    blob: bytes  # arq's packed job
    status: str = "queued"  # queued, running, done
    ready_at: float = 0.0  # loop time it finishes once running
    answer: bytes | None = None  # arq's packed result
    orphan: bool = False  # running when its worker was killed


def person_vector(person: str, jitter: str = "") -> list[float]:
    """A fixed unit vector for ``person``; ``jitter`` (a photo's sha) moves it slightly."""
    rng = random.Random(hashlib.sha256(person.encode()).digest())
    v = [rng.gauss(0, 1) for _ in range(DIMS)]
    if jitter:
        j = random.Random(jitter)
        v = [x + j.gauss(0, 0.05) for x in v]
    n = sum(x * x for x in v) ** 0.5
    return [x / n for x in v]


def similarity(a: list[float], b: list[float]) -> float:
    na = sum(x * x for x in a) ** 0.5
    nb = sum(x * x for x in b) ** 0.5
    return sum(x * y for x, y in zip(a, b, strict=False)) / (na * nb) if na and nb else 0.0


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


class FakeEngine:
    """See the module docstring. ``prefix`` names job ids as the real client's does."""

    def __init__(self, prefix: str = "fake") -> None:
        self.prefix = prefix
        self.jobs: dict[str, _Job] = {}
        self.serving = {c.QUEUE_FAST: True, c.QUEUE_GPU: True}  # a worker takes its jobs
        self.alive = {c.QUEUE_FAST: True, c.QUEUE_GPU: True}  # its heartbeat is there
        self.seen_at: dict[str, float] = {q: time.time() for q in self.serving}
        self.delay: dict[str, float] = {}  # job name -> seconds it takes once started
        self.failures: dict[str, list[c.JobFailure]] = defaultdict(list)
        self.down = False  # Redis unreachable: every call raises ConnectionError
        self.photos: dict[str, Seen] = {}  # sha256 of a photo -> what it shows
        self.prompt_limit: int | None = None  # words; None: every prompt fits
        self.ran: list[tuple[str, str]] = []  # (job, job id) in the order they finished
        # job name -> fn(engine, request) -> a contract model, or a plain dict (as a worker
        # of another version might answer: it crosses the serializer as it is)
        self.handlers: dict[str, Any] = dict(HANDLERS)
        self._ids = 0

    # --- the test's controls ---------------------------------------------------------------
    def show(self, photos: Iterable[Any], person: str | None, faces: int = 1) -> None:
        """Photos (bytes or IncomingFile) that show ``person`` (None: no face), ``faces``
        faces in all."""
        for p in photos:
            data = p if isinstance(p, bytes) else p.data
            self.photos[hashlib.sha256(data).hexdigest()] = Seen(person, faces)

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

    async def drop(self, job_ids: list[str]) -> int:
        self._check()
        return sum(self.jobs.pop(i, None) is not None for i in job_ids)

    async def drop_named(self, job_ids: list[str], id_prefix: str) -> int:
        self._check()
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
        self.ran.append((j.name, job_id))

    # --- the answers -----------------------------------------------------------------------
    def analyze(self, req: c.AnalyzePhotoRequest) -> c.Message:
        from engine.intake import IntakeLimits, PhotoRefused, decode_with_limits

        try:
            photo = decode_with_limits(req.photo, IntakeLimits())
        except PhotoRefused as refused:
            issue = c.Issue(problem=refused.problem, detail=refused.detail)
            return c.AnalyzePhotoResult(
                accepted=False, issues=[issue], width=refused.width, height=refused.height
            )
        base = {"width": photo.width, "height": photo.height, "format": photo.format}
        sha = hashlib.sha256(req.photo).hexdigest()
        seen = self.photos.get(sha, Seen(None, 0))
        if seen.person is None or seen.faces == 0:
            issue = c.Issue(problem=c.PhotoProblem.NO_FACE, detail="no face found")
            return c.AnalyzePhotoResult(accepted=False, issues=[issue], **base)
        base["face_count"] = seen.faces
        if seen.faces > 1:
            issue = c.Issue(
                problem=c.PhotoProblem.SEVERAL_FACES, detail=f"I see {seen.faces} faces"
            )
            return c.AnalyzePhotoResult(accepted=False, issues=[issue], **base)
        vec = person_vector(seen.person, sha)
        for p in req.protected:
            if similarity(vec, p.embedding.vector) >= THRESHOLD:
                issue = c.Issue(
                    problem=c.PhotoProblem.PROTECTED,
                    detail="I can't use this photo. Please send photos of yourself.",
                )
                return c.AnalyzePhotoResult(
                    accepted=False, issues=[issue], protected_match=p.id, **base
                )
        quality: dict[str, float] = {}
        if req.set_embeddings:
            sim = _median([similarity(vec, e.vector) for e in req.set_embeddings])
            quality["set_similarity"] = round(sim, 3)
            if sim < THRESHOLD:
                issue = c.Issue(problem=c.PhotoProblem.DIFFERENT_PERSON, detail="")
                return c.AnalyzePhotoResult(accepted=False, issues=[issue], **base)
        crop = photo.image.resize((64, 64))  # not aligned: the whole photo, scaled
        return c.AnalyzePhotoResult(
            accepted=True,
            embedding=c.Embedding(backend=BACKEND, vector=vec),
            face_crop=_png(crop),
            quality=quality,
            **base,
        )

    def check_set(self, req: c.CheckSetRequest) -> c.Message:
        vecs = [e.vector for e in req.embeddings]
        meds = [
            _median([similarity(v, o) for j, o in enumerate(vecs) if j != i])
            if len(vecs) > 1
            else 1.0
            for i, v in enumerate(vecs)
        ]
        matches = [
            c.ProtectedMatch(index=i, protected_id=p.id)
            for i, v in enumerate(vecs)
            for p in req.protected
            if similarity(v, p.embedding.vector) >= THRESHOLD
        ]
        return c.CheckSetResult(
            outliers=[i for i, m in enumerate(meds) if m < THRESHOLD],
            threshold=THRESHOLD,
            distances=meds,
            protected_matches=matches,
        )

    def generate(self, req: c.GenerateRequest) -> c.Message:
        for r in req.references:
            if any(
                similarity(r.embedding.vector, p.embedding.vector) >= THRESHOLD
                for p in req.protected
            ):
                return c.JobFailure(
                    code="protected", message="a reference photo shows a protected face"
                )
        out = []
        for seed in req.seeds:
            rng = random.Random(seed)
            im = Image.new("RGB", (64, 64), tuple(rng.randrange(256) for _ in range(3)))
            ImageDraw.Draw(im).ellipse((16, 12, 48, 52), fill=(230, 190, 160))
            out.append(
                c.Variation(seed=seed, image=_png(im), likeness=0.8, face_found=True, passed=True)
            )
        return c.GenerateResult(
            generation_id=req.generation_id,
            variations=out,
            model="fake-engine",
            adapter="none",
            device="none",
            seconds=0.0,
        )

    def upscale(self, req: c.UpscaleRequest) -> c.Message:
        with Image.open(io.BytesIO(req.image)) as im:
            big = im.convert("RGB").resize((im.width * req.scale, im.height * req.scale))
        return c.UpscaleResult(
            image=_png(big),
            method="pillow resize (fake engine)",
            width=big.width,
            height=big.height,
            seconds=0.0,
        )

    def label(self, req: c.LabelRequest) -> c.Message:
        with Image.open(io.BytesIO(req.image)) as im:
            out = im.convert("RGB")
        ImageDraw.Draw(out).text((2, out.height - 12), req.text, fill=(255, 255, 255))
        return c.LabelResult(image=_png(out), seconds=0.0)

    def check_prompt(self, req: c.CheckPromptRequest) -> c.Message:
        words = len((req.reference_prompt or req.prompt).split())
        if self.prompt_limit is None:
            return c.CheckPromptResult(fits=True, message="not counted by the fake engine")
        fits = words <= self.prompt_limit
        return c.CheckPromptResult(
            fits=fits,
            family="fake",
            tokens=words,
            limit=self.prompt_limit,
            message="" if fits else f"your answers are too long for the model ({words} words)",
        )


def _ms() -> int:
    return int(time.time() * 1000)


HANDLERS: dict[str, Any] = {
    c.JOB_ANALYZE: FakeEngine.analyze,
    c.JOB_CHECK_SET: FakeEngine.check_set,
    c.JOB_GENERATE: FakeEngine.generate,
    c.JOB_UPSCALE: FakeEngine.upscale,
    c.JOB_LABEL: FakeEngine.label,
    c.JOB_CHECK_PROMPT: FakeEngine.check_prompt,
}
