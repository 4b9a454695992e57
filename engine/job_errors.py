"""How a job's errors become answers: a permanent ``JobFailure``, or an arq retry.

Permanent errors (bad input, an adapter this worker lacks) come back as
``JobFailure`` dicts with a code, always one of the contract's closed
:class:`sitter.contract.FailureCode` (the bot words each for people; the message
is for the log); transient ones (CUDA out of memory, a model
still loading) raise ``arq.Retry`` with backoff, bounded by ``MAX_TRIES`` (which
also bounds re-runs after a worker died).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from sitter import contract as c

log = logging.getLogger("engine.worker")

MAX_TRIES = 3
RETRY_BACKOFF_S = (5, 20, 60)  # defer before try 2, 3, 4...


FailureCode = c.FailureCode


class Permanent(Exception):
    """A job that can never succeed as asked; becomes a JobFailure with ``code``."""

    def __init__(self, code: FailureCode, message: str) -> None:
        super().__init__(message)
        self.code = FailureCode(code)  # a code outside the contract's set is a bug here


def backoff(job_try: int) -> int:
    return RETRY_BACKOFF_S[min(job_try - 1, len(RETRY_BACKOFF_S) - 1)]


def failure(job: str, code: FailureCode, message: str) -> dict[str, Any]:
    """The JobFailure dict for ``code``; ``message`` also goes to the worker's log."""
    from sitter.observability import record_failure

    code = FailureCode(code)
    record_failure(job, code.value)
    log.warning("%s failed (%s): %s", job, code.value, message)
    return c.JobFailure(code=code.value, message=message).model_dump()


def is_oom(exc: BaseException) -> bool:
    return type(exc).__name__ == "OutOfMemoryError" or "CUDA out of memory" in str(exc)


def permanent_code(exc: BaseException) -> FailureCode | None:
    """A permanent error's failure code: carried by the exception itself (``Permanent``'s
    ``code``; the engine's bad-input errors name theirs as a class attribute,
    ``failure_code``); any other ``ValueError`` is a bad request. None: not permanent."""
    if isinstance(exc, Permanent):
        return exc.code
    code = getattr(type(exc), "failure_code", None)
    if isinstance(code, FailureCode):
        return code
    if isinstance(exc, ValueError):
        return FailureCode.BAD_REQUEST
    return None


def free_gpu_memory() -> None:
    with contextlib.suppress(Exception):
        import gc

        import torch

        gc.collect()
        torch.cuda.empty_cache()
