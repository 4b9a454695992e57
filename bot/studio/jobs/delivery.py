"""Sending what the core says on its own (progress, results) through the outboxes.

A chat that refuses our messages for good (the outbox raises ChatRefused: the person
blocked the bot, left, deleted the chat) is tried again after 2, 4, 8 ... ticks and
given up after MAX_SEND_FAILS refusals until the person writes again; the results
stay in the store (/status, a later /start). Any other failure (network, 5xx, rate
limits) passes: tried again after 2, 4, 8 ... ticks up to SEND_RETRY_CAP_S apart,
never given up.
"""

from __future__ import annotations

import logging
import time

from bot.studio.core.events import ChatRefused, Recipient, Reply
from bot.studio.core.services import Services

log = logging.getLogger("bot.studio.jobs.tracking")

MAX_SEND_FAILS = 6
SEND_BACKOFF_CAP_S = 3600.0
SEND_RETRY_CAP_S = 300.0


class Delivery:
    def __init__(self, services: Services):
        self.s = services

    async def send(self, platform: str, chat_id: str | None, reply: Reply) -> bool:
        """True once the platform took the message; False: try again on a later pass."""
        outbox = self.s.outboxes.get(platform)
        if outbox is None or not chat_id:
            return False  # delivered later, once that platform's adapter is running
        failures = self.s.send_failures
        key = (platform, chat_id)
        refused, failed, next_at = failures.get(key, (0, 0, 0.0))
        if refused >= MAX_SEND_FAILS or time.monotonic() < next_at:
            return False  # backing off, or given up until the person writes again
        try:
            await outbox.send(Recipient(platform, chat_id), reply)
        except ChatRefused as exc:
            refused += 1
            wait = min(SEND_BACKOFF_CAP_S, self.s.tick_s * 2**refused)
            failures[key] = (refused, failed, time.monotonic() + wait)
            if refused >= MAX_SEND_FAILS:
                log.warning(
                    "tracking: giving up on %s:%s after %d refusals (%s); its results "
                    "are kept and sent when the person writes again",
                    platform,
                    chat_id,
                    refused,
                    exc,
                )
            else:
                log.warning(
                    "tracking: %s:%s refused a message (%s); next try in %.0fs",
                    platform,
                    chat_id,
                    exc,
                    wait,
                )
            return False
        except Exception as exc:
            failed += 1
            wait = min(SEND_RETRY_CAP_S, self.s.tick_s * 2 ** min(failed, 30))
            failures[key] = (refused, failed, time.monotonic() + wait)
            log.log(
                logging.WARNING if failed == 1 else logging.INFO,  # one warning per outage
                "tracking: sending to %s:%s failed (%s: %s); trying again in %.0fs (try %d)",
                platform,
                chat_id,
                type(exc).__name__,
                exc,
                wait,
                failed,
            )
            return False
        failures.pop(key, None)
        return True
