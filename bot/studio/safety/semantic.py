"""The whole screen as the studio asks it: the word lists here, then the engine's
semantic screen (the ``screen_text`` job on the fast queue, engine/text_screen.py),
which catches paraphrases no list holds ("wearing absolutely nothing").

Asked where typed answers are taken (each answer alone) and at "Queue it" (the whole
order: every answer together). The lists always run, in the bot. The engine is asked
only when a fast worker's heartbeat is there, and waited for at most
``SCREEN_TIMEOUT_S`` (3 s: the fast worker loads and warms its screen model before it
takes a job, so an answer takes milliseconds; a longer wait is a loading or busy worker,
and the person should not stare at a typing indicator for it): an engine that is down,
slow, older (no such job) or answers what this bot cannot read lets the answers through
on the lists alone, with a warning in the log saying how long it waited. Nothing is
painted unchecked all the same: the GPU worker puts the order's whole prompt through the
same semantic screen before it renders, and fails the order with ``refused_prompt``
(worded in bot/studio/words_failures.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.store.store import Row
from bot.studio.safety.screen import OK, Verdict, default_screen
from sitter import contract as c
from sitter.i18n import N_
from sitter.text_views import skeleton

log = logging.getLogger(__name__)

SCREEN_TIMEOUT_S = 3.0
# The words for a category the lists do not have (a newer engine's).
OTHER_REASON = N_(
    "Sitter does not make nude or sexual pictures, or pictures of minors. Please describe "
    "clothing and a setting that are fine to show anyone."
)


def reason_for(category: str) -> str:
    """The person's words for a refusal category (its prompts/safety file's reason)."""
    screen = default_screen()
    reasons = {x.name: x.reason for x in screen.categories}
    reasons |= {x.name: x.reason for x in screen.pairs}
    return reasons.get(category, OTHER_REASON)


async def semantic_verdict(
    engine: Any, slots: Mapping[str, str | None], job_id: str | None = None
) -> Verdict:
    """The engine's verdict on the answers (OK when it cannot be asked: see above)."""
    texts = {k: skeleton(v)[: c.MAX_SCREEN_CHARS] for k, v in slots.items() if v and v.strip()}
    if not texts:
        return OK
    started = time.monotonic()
    try:
        if not await engine.workers_alive(c.QUEUE_FAST):
            log.warning("semantic screen skipped: no fast worker is alive (word lists only)")
            return OK
        req = c.ScreenTextRequest(texts=dict(list(texts.items())[: c.MAX_SCREEN_SLOTS]))
        result = await engine.call(c.JOB_SCREEN_TEXT, req, job_id=job_id, timeout=SCREEN_TIMEOUT_S)
    except (TimeoutError, ConnectionError, OSError) as exc:
        waited = time.monotonic() - started
        log.warning(
            "semantic screen skipped after %.1f s: %s (word lists only; the GPU worker "
            "re-checks the whole prompt before painting)",
            waited,
            type(exc).__name__,
        )
        return OK
    log.info("semantic screen answered in %.2f s", time.monotonic() - started)
    if isinstance(result, c.JobFailure):
        log.warning("semantic screen skipped: %s (word lists only)", result.code)
        return OK
    if not isinstance(result, c.ScreenTextResult) or result.ok:
        return OK
    slot = result.slot if result.slot in slots or result.slot == "order" else ""
    return Verdict(False, result.category, result.phrase, slot, reason_for(result.category))


async def text_refusal(engine: Any, text: str, job_id: str | None = None) -> str | None:
    """One typed answer: the lists, then the engine. A refusal sentence, or None."""
    verdict = default_screen().check(text)
    if verdict.ok:
        verdict = replace(await semantic_verdict(engine, {"text": text}, job_id), slot="")
    return None if verdict.ok else verdict.message


async def order_refusal(
    engine: Any, slots: Mapping[str, str | None], job_id: str | None = None
) -> str | None:
    """A whole order's answers, each alone and all together. A refusal, or None."""
    verdict = default_screen().check_order(slots)
    if verdict.ok:
        verdict = await semantic_verdict(engine, slots, job_id)
    return None if verdict.ok else verdict.message


async def _person_job(services: Any, user: Row) -> str:
    """The job is named for its person (/forget finds their answers in Redis)."""
    from bot.studio.rights.rights import analysis_job_id

    return analysis_job_id(await services.job_prefix(), user["id"])


async def typed_refusal(services: Any, user: Row, text: str) -> str | None:
    """:func:`text_refusal` for one person's typed answer (the studio's services)."""
    return await text_refusal(services.engine, text, await _person_job(services, user))


async def answers_refusal(services: Any, user: Row, slots: Mapping[str, str | None]) -> str | None:
    """:func:`order_refusal` for one person's order at "Queue it"."""
    return await order_refusal(services.engine, slots, await _person_job(services, user))
