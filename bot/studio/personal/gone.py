"""A personal model goes wherever the photos it was learned from go: /forget, a new
set, removing a photo it was learned from (kept as ``outdated``: the person is told
and offered retraining), a moderator's removal, protect, ban and retention.

Redis first: a training still queued or running is dropped with its checkpoint
(``Engine.drop_training``: a running one stops at its next step and leaves nothing),
then the rows and the files. This module imports only the store and the engine's
interface, so the photos, rights and moderation parts can all call it."""

from __future__ import annotations

import logging

from bot.store.personal_store import Dropped
from bot.store.store import Store
from sitter.engine_client import Engine

log = logging.getLogger(__name__)


async def drop_trainings(engine: Engine | None, job_ids: list[str] | tuple[str, ...]) -> int:
    """Each training job and its checkpoint out of Redis; keys deleted."""
    if engine is None:
        return 0
    n = 0
    for job_id in job_ids:
        n += await engine.drop_training(job_id)
    return n


async def drop_models(
    store: Store,
    engine: Engine | None,
    user_id: int,
    set_id: int | None = None,
    *,
    keep_row: bool = False,
) -> Dropped:
    """Delete the person's models (of ``set_id``, or all): trainings in flight leave
    Redis first, then rows and files (``keep_row``: the rows stay, codes only, as what
    the trainings cost: ready ones ``outdated``, those in flight ``cancelled``)."""
    await drop_trainings(engine, await store.trainings_running(user_id, set_id))
    dropped = await store.drop_personal(user_id, set_id, keep_row=keep_row)
    if dropped.models:
        log.info("personal models of user %s dropped: %s", user_id, dropped)
    return dropped


async def photo_removed(store: Store, engine: Engine | None, user_id: int, set_id: int) -> bool:
    """After an accepted photo left the set: the set's model was learned from it (a
    training reads the set's accepted photos, a re-enqueued one again), so it is out
    of date — file gone, row ``outdated``, a training in flight dropped — whatever the
    number of photos left. True when there was one."""
    if not await store.has_personal(user_id, set_id):
        return False
    dropped = await drop_models(store, engine, user_id, set_id, keep_row=True)
    return dropped.models > 0
