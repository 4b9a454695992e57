"""How a job's errors become answers: a permanent ``JobFailure``, or an arq retry.

Permanent errors (bad input, an adapter this worker lacks) come back as
``JobFailure`` dicts with a code; transient ones (CUDA out of memory, a model
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


class Permanent(Exception):
    """A job that can never succeed as asked; becomes a JobFailure with ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def backoff(job_try: int) -> int:
    return RETRY_BACKOFF_S[min(job_try - 1, len(RETRY_BACKOFF_S) - 1)]


def failure(job: str, code: str, message: str) -> dict[str, Any]:
    from sitter.observability import record_failure

    record_failure(job, code)
    log.warning("%s failed (%s): %s", job, code, message)
    return c.JobFailure(code=code, message=message).model_dump()


def is_oom(exc: BaseException) -> bool:
    return type(exc).__name__ == "OutOfMemoryError" or "CUDA out of memory" in str(exc)


def permanent_code(exc: BaseException) -> str | None:
    """Known bad-input errors from the engine's modules -> a failure code."""
    from engine.likeness import IdentityMismatch

    if isinstance(exc, Permanent):
        return exc.code
    if isinstance(exc, IdentityMismatch):
        return "identity_mismatch"
    if type(exc).__name__ == "CopyWithheld":
        return "withheld"
    name = type(exc).__name__
    return {
        "UpscaleError": "bad_image",
        "ProvenanceError": "bad_image",
        "PhotoRefused": "bad_image",
        "ValueError": "bad_request",
        "PromptTooLong": "prompt_too_long",
    }.get(name)


def free_gpu_memory() -> None:
    with contextlib.suppress(Exception):
        import gc

        import torch

        gc.collect()
        torch.cuda.empty_cache()
