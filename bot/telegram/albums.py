"""Albums: Telegram delivers one media group as many updates sharing a ``media_group_id``.

The parts are collected (their downloads start at once) until no new part has
arrived for ``window_s``; then the whole album is handed on as one list, in the
order the user chose.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from bot.studio.core.events import IncomingFile, Who
from bot.telegram.translate import PHOTO_NAME


@dataclass
class _Pending:
    who: Who
    parts: list[tuple[int, asyncio.Task[IncomingFile]]] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


def numbered(f: IncomingFile, n: int) -> IncomingFile:
    """Name album photos by their place ("photo 2"): Telegram gives photos no names."""
    return replace(f, filename=f"{PHOTO_NAME} {n}") if f.filename == PHOTO_NAME else f


Flush = Callable[[Who, list[IncomingFile]], Awaitable[None]]


class AlbumBuffer:
    def __init__(self, window_s: float, flush: Flush) -> None:
        self.window_s = window_s
        self._flush = flush
        self._pending: dict[tuple[str, str], _Pending] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, who: Who, group_id: str, message_id: int, fetch: Awaitable[IncomingFile]) -> None:
        key = (who.chat_id, group_id)
        pending = self._pending.setdefault(key, _Pending(who))
        pending.parts.append((message_id, asyncio.ensure_future(fetch)))
        if pending.timer is not None:
            pending.timer.cancel()
        loop = asyncio.get_running_loop()
        pending.timer = loop.call_later(self.window_s, self._due, key)

    def _due(self, key: tuple[str, str]) -> None:
        task = asyncio.ensure_future(self._run(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, key: tuple[str, str]) -> None:
        pending = self._pending.pop(key, None)
        if pending is None:
            return
        parts = sorted(pending.parts, key=lambda p: p[0])
        files = list(await asyncio.gather(*(t for _, t in parts)))
        await self._flush(pending.who, [numbered(f, n) for n, f in enumerate(files, 1)])

    async def drain(self) -> None:
        """Hand on every album collected so far at once (used when the bot stops)."""
        for key, pending in list(self._pending.items()):
            if pending.timer is not None:
                pending.timer.cancel()
            self._due(key)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def __len__(self) -> int:
        return len(self._pending)
