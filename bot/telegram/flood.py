"""Flood control: Telegram's limits, kept on our side so the server rarely has to say 429.

PTB's AIORateLimiter keeps ~30 requests/s overall and 20 messages/min per group
and waits out a ``RetryAfter`` (then retries). Telegram also asks for about one
message per second in one private chat, allowing short bursts: this adds that,
as a token bucket per private chat (a burst, then ``per_second``). An album
counts one message per item, as Telegram counts it. :func:`refuses_us` tells a
refusal for good (the chat is closed to us) from a failure that passes.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError
from telegram.ext import AIORateLimiter

MAX_IDLE_LIMITERS = 512


class FloodControl(AIORateLimiter):
    def __init__(
        self,
        *,
        per_second: float = 1.0,
        burst: int = 6,
        max_retries: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(max_retries=max_retries, **kwargs)
        self.per_second = per_second
        self.burst = burst
        self._chats: dict[int, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        if len(self._chats) > MAX_IDLE_LIMITERS:  # forget chats whose bucket is full again
            for key, idle in list(self._chats.items()):
                if key != chat_id and idle.has_capacity(idle.max_rate):
                    del self._chats[key]
        limiter = self._chats.get(chat_id)
        if limiter is None:
            limiter = AsyncLimiter(self.burst, self.burst / self.per_second)
            self._chats[chat_id] = limiter
        return limiter

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        try:
            chat = int(chat_id) if chat_id is not None else 0
        except (TypeError, ValueError):
            chat = 0
        if chat > 0 and endpoint.startswith("send") and endpoint != "sendChatAction":
            media = data.get("media")
            weight = len(media) if isinstance(media, list) and media else 1
            await self._chat_limiter(chat).acquire(min(weight, self.burst))
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )

    @property
    def chats_tracked(self) -> int:
        # (not __len__: PTB tests ``if bot.rate_limiter``, and an empty one would be falsy)
        return len(self._chats)


# Bot API 400 answers that mean this chat is closed to us (not a bad message).
REFUSING_CHAT = ("chat not found", "user not found", "have no rights", "not enough rights")


def refuses_us(exc: TelegramError) -> bool:
    """A refusal for good: 403 (blocked, kicked, deactivated), the chat gone, moved to a
    supergroup. A network error, a 5xx or RetryAfter (after the limiter's retries) passes."""
    if isinstance(exc, Forbidden | ChatMigrated):
        return True
    return isinstance(exc, BadRequest) and any(m in exc.message.lower() for m in REFUSING_CHAT)
