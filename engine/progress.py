"""Live progress of a running generation, for the bot to show while a person waits.

The worker gives each generate job a :class:`Reporter` (:func:`start`), made
current for the job's thread through a context variable (``asyncio.to_thread``
copies the context), so the pipeline reports without new arguments:

- :func:`begin` when a pass starts (which variations, which attempt, which stage);
- :func:`stage` when the face detail pass of that pass starts;
- :func:`step` from diffusers' ``callback_on_step_end`` (render and detail pass);
- :func:`finished` as variations are kept for good.

The reporter writes :class:`sitter.contract.Progress` as JSON under
``<prefix>:progress:<job_id>`` with a TTL (:data:`TTL_S`, renewed by each write), and
announces the same JSON as a ``progress`` event (sitter/events.py) in the same round
trip, so the bot edits at once; it deletes the key when the job ends. Writes happen
on the worker's event loop with its own Redis connection; at most one is in flight,
the newest value wins (a step between two writes is skipped, never reordered).
Nothing personal is written: counts only. Outside a worker (``sitter generate``,
tests) nothing is current and reporting is free.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from sitter import contract as c
from sitter import events

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

TTL_S = 120  # a key left by a worker that died goes by itself


class Reporter:
    """One job's progress: updated from the work thread, written from the event loop."""

    def __init__(
        self,
        redis: Redis,
        key: str,
        loop: asyncio.AbstractEventLoop,
        announce: tuple[str, str] | None = None,
    ) -> None:
        self.redis, self.key, self.loop = redis, key, loop
        self.announce = announce  # (queue prefix, job id): also a "progress" event
        self._lock = threading.Lock()
        self._state = c.Progress()
        self._dirty = False
        self._writing: asyncio.Task[None] | None = None
        self._closed = False
        self.writes = 0

    # --- from the work thread ----------------------------------------------------------
    def update(self, **changes: Any) -> None:
        with self._lock:
            self._state = self._state.model_copy(update=changes)
            self._dirty = True
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
            self.loop.call_soon_threadsafe(self._flush)

    @property
    def state(self) -> c.Progress:
        with self._lock:
            return self._state

    # --- on the event loop ---------------------------------------------------------------
    def _flush(self) -> None:
        if self._closed or self._writing is not None or not self._dirty:
            return
        self._writing = self.loop.create_task(self._write())

    async def _write(self) -> None:
        try:
            while self._dirty and not self._closed:
                with self._lock:
                    body, self._dirty = self._state.model_dump_json(), False
                try:
                    async with self.redis.pipeline(transaction=False) as pipe:
                        pipe.set(self.key, body, ex=TTL_S)
                        if self.announce is not None:  # the bot edits at once (sitter/events.py)
                            prefix, job_id = self.announce
                            events.add_to(pipe, prefix, job_id, events.What.PROGRESS, body)
                        await pipe.execute()
                    self.writes += 1
                except Exception as exc:  # progress is a courtesy: never fail the job
                    log.debug("progress write failed: %s", exc)
                    return
        finally:
            self._writing = None

    async def close(self) -> None:
        """No more writes; the key is deleted (also when a write was in flight)."""
        self._closed = True
        if self._writing is not None:
            with contextlib.suppress(Exception):
                await self._writing
        with contextlib.suppress(Exception):
            await self.redis.delete(self.key)


_current: ContextVar[Reporter | None] = ContextVar("sitter_progress", default=None)


def start(ctx: dict[str, Any]) -> tuple[Reporter | None, Any]:
    """A reporter for the arq job in ``ctx``, made current; (None, None) outside a worker."""
    redis, job_id, settings = ctx.get("redis"), ctx.get("job_id"), ctx.get("settings")
    if redis is None or job_id is None or settings is None:
        return None, None
    key = c.progress_key(settings.queue_prefix, str(job_id))
    announce = (settings.queue_prefix, str(job_id))
    reporter = Reporter(redis, key, asyncio.get_running_loop(), announce)
    return reporter, _current.set(reporter)


async def stop(reporter: Reporter | None, token: Any) -> None:
    if reporter is None:
        return
    _current.reset(token)
    await reporter.close()


def current() -> Reporter | None:
    return _current.get()


def begin(stage: str, variations: Sequence[int], of: int, attempt: int = 1, steps: int = 0) -> None:
    """A pass starts: ``variations`` are 1-based indexes into the order's seeds."""
    reporter = _current.get()
    if reporter is not None:
        reporter.update(
            stage=stage,
            variations=list(variations),
            of=of,
            attempt=attempt,
            step=0,
            steps=steps,
        )


def stage(name: str) -> None:
    """The current pass moves on to another stage (the face detail pass)."""
    reporter = _current.get()
    if reporter is not None:
        reporter.update(stage=name, step=0, steps=0)


def step(done: int, total: int) -> None:
    """``done`` of ``total`` denoising steps of the current pass."""
    reporter = _current.get()
    if reporter is not None:
        reporter.update(step=max(0, min(done, total)), steps=max(0, total))


def finished(count: int) -> None:
    """``count`` variations of the order are kept for good."""
    reporter = _current.get()
    if reporter is not None:
        reporter.update(done=count)


def on_step_end(pipe: Any, index: int, fallback_steps: int) -> None:
    """For a ``callback_on_step_end``: step ``index`` (0-based) of the pipe's schedule."""
    if _current.get() is not None:
        total = getattr(pipe, "num_timesteps", None) or fallback_steps
        step(index + 1, int(total))


def training(done: int, total: int, seconds_left: float | None) -> None:
    """A personal model's training: ``done`` of ``total`` steps (engine/training/)."""
    reporter = _current.get()
    if reporter is not None:
        reporter.update(
            stage="train",
            step=max(0, min(done, total)),
            steps=max(0, total),
            seconds_left=None if seconds_left is None else round(max(0.0, seconds_left), 1),
        )
