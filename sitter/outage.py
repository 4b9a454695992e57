"""Outages (Redis unreachable, disk full, the database locked by another program) logged
as one warning and one line, not a traceback per order per pass.

``Outages.failed(exc)`` returns True when ``exc`` is an outage (and logs only when
it starts); ``Outages.passed()`` ends the outages that did not fail again since the
last call, each with one line saying how long it lasted and how many operations it
refused. A pass that merely wrote nothing proves nothing about a full disk: a disk
outage ends only after ``Outages.succeeded("disk")`` (the tracker probes the disk
with :func:`probe_disk` each pass while it lasts). ``sitter_outages{kind}`` counts
outages started, for alerts.
"""

from __future__ import annotations

import errno
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import Counter
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("sitter.outage")

OUTAGES = Counter("sitter_outages", "Outages started, by kind (redis, disk, database).", ["kind"])
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO}
# SQLite's primary result codes (sqlite3.SQLITE_*; an extended code keeps its primary in
# the low byte), read off the exception: this module is imported by the engine, which
# loads no database module. "database or disk is full" (13) and I/O errors (10) are the
# disk; "database is locked" (5, 6) past the busy timeout (bot/store/migrate.py) is
# another program holding the database.
_SQLITE_KINDS = {13: "disk", 10: "disk", 5: "database", 6: "database"}
_WHAT = {
    "redis": ("Redis is unreachable", "Redis"),
    "disk": ("the disk refuses writes", "the disk"),
    "database": ("the database is locked by another program", "the database"),
}
NEEDS_PROOF = {"disk"}  # outages that end only on a success, not on a quiet pass
PROBE_BYTES = 1 << 20  # about one portrait: a few free blocks are not "back"


def probe_disk(folder: Path) -> None:
    """Write, sync and remove a portrait-sized file in ``folder``; raises OSError if the
    disk still refuses."""
    probe = folder / ".disk-probe"
    try:
        with probe.open("wb") as fh:
            fh.write(bytes(PROBE_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        probe.unlink(missing_ok=True)


def kind_of(exc: BaseException) -> str | None:
    """ "redis", "disk" or "database" when ``exc`` means one of them is unavailable,
    else None."""
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):  # redis ships with arq
        return "redis"
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
        return "disk"
    if type(exc).__module__ == "sqlite3":
        code = getattr(exc, "sqlite_errorcode", None)
        return _SQLITE_KINDS.get(code & 0xFF) if isinstance(code, int) else None
    if isinstance(exc, OSError | TimeoutError) and "redis" in type(exc).__module__:
        return "redis"
    return None


@dataclass
class _Outage:
    since: float
    errors: int = 1
    failed_now: bool = True
    proven: bool = False  # an operation of this kind worked since the last failure


class Outages:
    def __init__(self) -> None:
        self._open: dict[str, _Outage] = {}

    def active(self, kind: str) -> bool:
        return kind in self._open

    def failed(self, exc: BaseException, where: str = "") -> bool:
        kind = kind_of(exc)
        if kind is None:
            return False
        outage = self._open.get(kind)
        if outage is None:
            self._open[kind] = _Outage(time.monotonic())
            OUTAGES.labels(kind).inc()
            what = _WHAT[kind][0]
            log.warning(
                "outage: %s (%s: %s)%s; retrying quietly until it is back",
                what,
                type(exc).__name__,
                exc,
                f" in {where}" if where else "",
            )
        else:
            outage.errors += 1
            outage.failed_now = True
            outage.proven = False
        return True

    def succeeded(self, kind: str) -> None:
        """An operation of ``kind`` worked (a disk probe): the outage may end this pass."""
        outage = self._open.get(kind)
        if outage is not None and not outage.failed_now:
            outage.proven = True

    def passed(self) -> None:
        """End of a pass: outages with no failure in it are over."""
        for kind, outage in list(self._open.items()):
            if outage.failed_now:
                outage.failed_now = False
                continue
            if kind in NEEDS_PROOF and not outage.proven:
                continue  # nothing failed, but nothing of that kind was tried either
            del self._open[kind]
            log.warning(
                "outage over: %s is back after %.0fs (%d operations failed meanwhile)",
                _WHAT[kind][1],
                time.monotonic() - outage.since,
                outage.errors,
            )
