"""How far a moderation decision reaches, and protection checked again at order time.

A decision about one reported portrait is about the face in the reference set it
was made from: *remove* reaches every order made from that set (retries included)
and their upscaled and labelled copies, and work still queued for them is
cancelled. *purge*, *protect* and *ban* delete all the owner's reference photos,
so all the owner's work in progress is cancelled and taken out of Redis (queued
jobs carry the reference crops). A banned owner is delivered nothing.

A face protected after photos of it were accepted is caught when an order is
placed (the set's embeddings are compared with every protected face by the
engine) and again by the worker before it paints (the request carries the
protected faces).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.store import rights_store as rs
from bot.store.codes import Failure
from bot.store.moderation_store import ModerationStore, Purge
from bot.store.store import Store
from sitter import contract as c
from sitter.engine_client import Engine

if TYPE_CHECKING:  # the studio's shared parts (core imports this module's users)
    from bot.store.store import Row
    from bot.studio.core.services import Services

log = logging.getLogger(__name__)


# --- which orders a decision is about ------------------------------------------------------
async def related_orders(store: Store, order_id: int | None) -> list[int]:
    """The order, its retries and originals, and every order of the same reference set."""
    if order_id is None:
        return []
    seen: set[int] = set()
    frontier = [order_id]
    while frontier:
        oid = frontier.pop()
        if oid in seen:
            continue
        links = await store.order_links(oid)
        if not links:
            continue
        seen.add(oid)
        frontier += [i for i in links[1:] if i not in seen]
    return sorted(seen)


async def _stop_orders(
    store: Store, engine: Engine | None, orders: list[Any], vjs: list[Any], why: str
) -> int:
    """Cancel in-flight orders and follow-ups (never delivered) and unqueue their jobs."""
    await store.stop_work([o["id"] for o in orders], [vj["id"] for vj in vjs], why)
    jobs = [r["job_id"] for r in [*orders, *vjs] if r["job_id"]]
    if engine is not None and jobs:
        await engine.drop(jobs)
    return len(orders) + len(vjs)


async def remove_images_everywhere(
    store: Store, engine: Engine | None, order_id: int | None
) -> tuple[Purge, list[int]]:
    """*Remove images* for the reported order and every related one; returns the sum
    and the ids of the related orders beyond the reported one."""
    ids = await related_orders(store, order_id)
    if not ids:
        return Purge(), []
    orders, vjs = await store.work_in_flight(order_ids=ids)
    await _stop_orders(store, engine, orders, vjs, Failure.REMOVED_BY_MODERATOR)
    mod = ModerationStore(store)
    total = Purge()
    for oid in ids:
        p = await mod.remove_order_images(oid)
        total = Purge(**{k: getattr(total, k) + v for k, v in p.as_dict().items()})
    return total, [i for i in ids if i != order_id]


async def stop_owner_work(
    store: Store, engine: Engine | None, user_id: int | None, why: str
) -> int:
    """Cancel all the owner's queued orders and follow-ups (a ban, a purge); their
    jobs leave Redis. Returns how many were stopped."""
    if user_id is None:
        return 0
    orders, vjs = await store.work_in_flight(user_id=user_id)
    n = await _stop_orders(store, engine, orders, vjs, why)
    if n:
        log.info("moderation: stopped %d orders/follow-ups of user %s (%s)", n, user_id, why)
    return n


# --- protection at order time and before painting -------------------------------------------
async def protected_for(store: Store, user_id: int) -> list[c.ProtectedFace]:
    """The faces this person's references must not match (their own /protect excepted)."""
    return await ModerationStore(store).active_protected(user_id)


async def check_set(studio: Services, user: Row, set_id: int) -> str | None:
    """Before an order: do any accepted photos of the set show a protected face? Those
    photos are deleted (hash and reason kept), the match is logged without any photo,
    and the refusal is returned. None: go on (also when the engine does not answer:
    the worker checks again before it paints)."""
    from bot.studio.rights import rights

    store = studio.store
    protected = await protected_for(store, user["id"])
    if not protected:
        return None
    photos = [p for p in await store.photos(set_id, "accepted") if p.embedding]
    if not photos:
        return None
    req = c.CheckSetRequest(
        embeddings=[
            c.Embedding(backend=p.backend, vector=p.embedding) for p in photos if p.embedding
        ],
        protected=protected,
    )
    job_id = rights.analysis_job_id(await studio.job_prefix(), user["id"])
    try:
        result = await studio.engine.call(
            c.JOB_CHECK_SET, req, job_id=job_id, timeout=studio.analyze_timeout_s
        )
    except TimeoutError:
        return None
    if not isinstance(result, c.CheckSetResult) or not result.protected_matches:
        return None
    hits = {m.index: m.protected_id for m in result.protected_matches if 0 <= m.index < len(photos)}
    reason = [{"problem": "protected", "detail": "matches a protected face"}]
    for i in hits:
        await rs.refuse_photo(store, photos[i].id, reason)
    left = await store.count_photos(set_id)
    if left < studio.settings.min_photos:
        await store.set_status(set_id, "collecting")
    await ModerationStore(store).log(
        "system",
        "protected_match",
        target_user_id=user["id"],
        reason="order",
        detail={"photos": len(hits), "protected_face_ids": sorted(set(hits.values()))},
    )
    n = len(hits)
    return (
        f"{n} of your reference photo{'s' if n != 1 else ''} show{'s' if n == 1 else ''} a "
        "face that is protected (its owner asked not to have it used), so I deleted "
        f"{'them' if n != 1 else 'it'} and didn't place the order. /photos to send others."
    )
