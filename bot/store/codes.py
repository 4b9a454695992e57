"""The codes the database keeps for a job's state and for why it failed.

Codes in storage, words at the edge: a row holds a status and a failure as codes (and
the few parameters a failure needs); the sentence is made when a message is sent
(bot/studio/jobs/words_failures.py), in the reader's words. Rows written before this
version held English sentences; migrations/0013_job_codes.sql turned them into codes.
What an order's progress message shows is a code and params too (:class:`Shown`,
worded by bot/studio/jobs/words_progress.py; 0016 turned old sentences into codes), and
0016's triggers refuse a status or failure code that is not one of these (read from the
table ``codes``, filled from :data:`GUARDED` on every open: no migration per new code).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class OrderStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # portraits stored, not yet sent
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


class LookStatus(StrEnum):
    """A pack's look (order_looks.status)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"  # off the queue before a worker took it
    STOPPED = "stopped"  # cancelled while painted: the worker stopped it; its images count


class FollowUpStatus(StrEnum):
    """An upscale, label or avatar (variation_jobs.status)."""

    QUEUED = "queued"
    DONE = "done"
    DELIVERED = "delivered"
    FAILED = "failed"


class TrainingStatus(StrEnum):
    """A personal model's training (personal_models.status, migration 0017)."""

    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"  # its file stored (told once delivered_at is set)
    FAILED = "failed"
    CANCELLED = "cancelled"  # stopped by the person: nothing kept
    OUTDATED = "outdated"  # its set fell below the minimum: file deleted, retraining offered


IN_FLIGHT = (OrderStatus.QUEUED, OrderStatus.RUNNING)
TOLD = (OrderStatus.DONE, OrderStatus.FAILED)  # finished: told to its owner, once


def sql_in(*members: StrEnum) -> str:
    """``('queued', 'running')``: codes for SQL's ``IN``, from the enums alone."""
    return "(" + ", ".join(f"'{m.value}'" for m in members) + ")"


ACTIVE_SQL = sql_in(*IN_FLIGHT)  # an order or a look queued or running (same codes)
TOLD_SQL = sql_in(*TOLD)  # an order or a follow-up done or failed (same codes)


class Failure(StrEnum):
    """Why an order, a look or a follow-up failed (the ``error`` columns)."""

    # The engine's (sitter.contract.FailureCode, the same values)
    BAD_REQUEST = "bad_request"
    BAD_IMAGE = "bad_image"
    PROMPT_TOO_LONG = "prompt_too_long"
    REFUSED_PROMPT = "refused_prompt"  # the content screen refused the order's words
    IDENTITY_MISMATCH = "identity_mismatch"
    PROTECTED = "protected"
    WITHHELD = "withheld"
    NOT_AVAILABLE = "not_available"
    NOT_SUPPORTED = "not_supported"
    NOT_READY = "not_ready"
    OUT_OF_MEMORY = "out_of_memory"
    DROPPED = "dropped"
    INTERNAL = "internal"
    LOST = "lost"
    BAD_RESULT = "bad_result"
    ENGINE_OUTDATED = "engine_outdated"
    TIMED_OUT = "timed_out"
    UNKNOWN = "unknown"
    # The studio's own
    REFERENCES_GONE = "references_gone"
    LOST_SEVERAL_TIMES = "lost_several_times"
    NO_PORTRAITS = "no_portraits"
    STOPPED_BY_MODERATOR = "stopped_by_moderator"
    REMOVED_BY_MODERATOR = "removed_by_moderator"  # its images removed (a report upheld)
    ACCOUNT_SUSPENDED = "account_suspended"
    PORTRAIT_GONE = "portrait_gone"
    PORTRAIT_REMOVED = "portrait_removed"  # removed before its follow-up could start
    COPY_WITHHELD = "copy_withheld"  # an upscaled/labelled copy the safety check withheld
    AVATAR_REFUSED = "avatar_refused"  # params: problem (sitter.contract.AvatarProblem)

    @classmethod
    def of(cls, code: Any) -> Failure:
        """``code`` as a member; anything else (a newer engine's code) is UNKNOWN."""
        try:
            return cls(str(code))
        except ValueError:
            return cls.UNKNOWN


def stored(code: Failure | str, **params: str) -> str:
    """The ``error`` column's value: the code, or ``{"code": ..., params}`` with params."""
    code = Failure.of(code)
    return json.dumps({"code": code.value, **params}) if params else code.value


def read(error: str | None) -> tuple[Failure, dict[str, str]]:
    """An ``error`` column's code and params (a sentence of an older row: UNKNOWN)."""
    text = (error or "").strip()
    if text.startswith("{"):
        try:
            d = json.loads(text)
            code = Failure.of(d.pop("code", ""))
            return code, {str(k): str(v) for k, v in d.items()}
        except (ValueError, AttributeError):
            return Failure.UNKNOWN, {}
    return Failure.of(text), {}


class ProgressCode(StrEnum):
    """What an order's progress message says (orders.progress_code; params in
    orders.progress_params, as JSON)."""

    QUEUED = "queued"  # position (1 = next); engine_gone, seen: the no-worker note
    PAINTING = "painting"  # variations (no bar reported yet)
    RUNNING = "running"  # total, share (%), stage, done (portrait numbers), of, attempt
    FINISHING = "finishing"
    CANCELLED = "cancelled"
    PACK_QUEUED = "pack_queued"  # looks, position; engine_gone, seen
    PACK_PAINTING = "pack_painting"  # look (its name), k, n, sent
    PACK_FINISHING = "pack_finishing"
    PACK_CANCELLED = "pack_cancelled"  # sent, stopped (images painted by a stopped look)


@dataclass(frozen=True)
class Shown:
    """What a progress message shows: a code and its params, never a sentence (words:
    bot/studio/jobs/words_progress.py, when the message is sent)."""

    code: ProgressCode
    params: dict[str, Any] = field(default_factory=dict)

    def columns(self) -> tuple[str, str]:
        """(progress_code, progress_params) as stored."""
        return self.code.value, json.dumps(self.params, sort_keys=True)

    @classmethod
    def read(cls, code: str | None, params: str | None) -> Shown | None:
        """The stored columns (None: nothing shown yet, or a code this version lacks)."""
        try:
            return cls(ProgressCode(code), json.loads(params or "{}")) if code else None
        except ValueError:
            return None


# The enums the database guards (migrations 0016, 0017): their triggers read the table
# ``codes`` (kind = the enum's class name), which bot/store/migrate.py fills from these
# whenever the database is migrated or opened. A member added here is guarded on the
# next start without a migration; a member removed stays known to the database (old rows
# may still hold it).
GUARDED: tuple[type[StrEnum], ...] = (
    OrderStatus,
    LookStatus,
    FollowUpStatus,
    TrainingStatus,
    Failure,
    ProgressCode,
)


def known_codes() -> set[tuple[str, str]]:
    """Every (kind, code) the ``codes`` table must hold: the union of the GUARDED enums."""
    return {(enum.__name__, member.value) for enum in GUARDED for member in enum}
