"""Typed lines, read without a thread where the event loop can watch the input.

``asyncio.to_thread(stdin.readline)`` left a thread blocked in ``readline`` that
``asyncio.run`` waits for at exit, so Ctrl-C printed "stopped" and then waited for
Enter. A terminal or a pipe is watched by the loop instead (``add_reader``) and read
with ``os.read``; a regular file or an in-memory stream never blocks and is read
directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import stat
from typing import TextIO


class LineReader:
    def __init__(self, stream: TextIO):
        self.stream = stream
        self.encoding = getattr(stream, "encoding", None) or "utf-8"
        self._fd = _watchable(stream)
        self._buf = b""
        self._eof = False

    async def readline(self) -> str:
        """The next line with its newline; "" at the end of input."""
        if self._fd is None:
            return self.stream.readline()
        while b"\n" not in self._buf and not self._eof:
            try:
                await self._ready(self._fd)
            except OSError:  # a device the loop can't watch (/dev/null): read it directly
                self._fd = None
                return self._take() or self.stream.readline()
            try:
                chunk = os.read(self._fd, 65536)
            except BlockingIOError:
                continue
            self._eof = not chunk
            self._buf += chunk
        return self._take()

    def _take(self) -> str:
        line, nl, self._buf = self._buf.partition(b"\n")
        return (line + nl).decode(self.encoding, errors="replace")

    @staticmethod
    async def _ready(fd: int) -> None:
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        loop.add_reader(fd, lambda: None if ready.done() else ready.set_result(None))
        try:
            await ready
        finally:
            with contextlib.suppress(Exception):
                loop.remove_reader(fd)


def _watchable(stream: TextIO) -> int | None:
    """The stream's file descriptor when reading it could block (a terminal, a pipe)."""
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
    return None if stat.S_ISREG(mode) else fd
