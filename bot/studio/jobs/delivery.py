"""Sending what the core says on its own (progress, results) through the outboxes.

A chat that refuses our messages for good (the outbox raises ChatRefused: the person
blocked the bot, left, deleted the chat) is tried again after 2, 4, 8 ... ticks and
given up after MAX_SEND_FAILS refusals until the person writes again; the results
stay in the store (/status, a later /start). Any other failure (network, 5xx, rate
limits) passes: tried again after 2, 4, 8 ... ticks up to SEND_RETRY_CAP_S apart,
never given up. A progress edit that fails so backs off on its own (:attr:`Delivery.
edit_backoff`): a failed edit never holds up that chat's results.
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
        # (platform, chat) -> (failed edits in a row, next edit not before)
        self.edit_backoff: dict[tuple[str, str], tuple[int, float]] = {}

    async def send(
        self, platform: str, chat_id: str | None, reply: Reply, *, edit: bool = False
    ) -> bool:
        """True once the platform took the message; False: try again on a later pass.
        ``edit``: a progress edit, whose passing failures back off apart from results."""
        outbox = self.s.outboxes.get(platform)
        if outbox is None or not chat_id:
            return False  # delivered later, once that platform's adapter is running
        failures = self.s.send_failures
        key = (platform, chat_id)
        refused, failed, next_at = failures.get(key, (0, 0, 0.0))
        if refused >= MAX_SEND_FAILS or time.monotonic() < next_at:
            return False  # backing off, or given up until the person writes again
        edits_failed, edit_at = self.edit_backoff.get(key, (0, 0.0))
        if edit and time.monotonic() < edit_at:
            return False
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
            if edit:  # the chat's results are not held back by a failed edit
                edits_failed += 1
                wait = min(SEND_RETRY_CAP_S, self.s.tick_s * 2 ** min(edits_failed, 30))
                self.edit_backoff[key] = (edits_failed, time.monotonic() + wait)
                log.info(
                    "tracking: a progress edit to %s:%s failed (%s: %s); next in %.0fs",
                    platform,
                    chat_id,
                    type(exc).__name__,
                    exc,
                    wait,
                )
                return False
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
        self.edit_backoff.pop(key, None)
        return True
