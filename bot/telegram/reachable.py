"""Starting the bot while Telegram can't be reached yet (no network at start, a timeout).

``sitter run`` with a token and no network ended in a 135-line traceback. Now the start
is tried again, waiting longer each time (at most ``max_wait_s``), as any outage: one
warning when it starts, one line when the Bot API answers. A refused token is not a
network error (PTB's ``InvalidToken``) and still ends the bot at once, in plain words.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram.error import NetworkError

log = logging.getLogger("bot.telegram.app")


async def start_when_reachable(
    start: Callable[[], Awaitable[None]], max_wait_s: float = 30.0
) -> None:
    tries = 0
    while True:
        try:
            await start()
        except NetworkError as exc:
            tries += 1
            if tries == 1:
                log.warning(
                    "telegram: can't reach the Bot API (%s); retrying until it answers", exc
                )
            await asyncio.sleep(min(max_wait_s, 2.0 ** (tries - 1)))
            continue
        if tries:
            log.warning("telegram: the Bot API answers again after %d tries; polling", tries)
        return
