"""A protected face reaches every account (issue 22, item 3).

When a moderator protects a face, the reported owner's photos and portraits go (see
decisions.py); so must every other stored set that shows that face, whoever made it.
Each set's faces are compared with the newly protected ones by the engine (the set
check, as at order time). Where a set shows the face, its photos of the face are deleted
(hash and reason kept, as for any refused photo), every order made from the set (and
its retries and follow-ups) loses its portraits, files and all, work still queued for
them is cancelled and leaves Redis, as do the person's kept photo checks; each account
reached is logged without any photo. Portraits whose set was already deleted carry no
face to compare and are not reached here.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import bot.studio.moderation.reach as reach
from bot.store import rights_store as rs
from bot.store.moderation_store import ModerationStore
from bot.store.store import Store
from bot.studio.jobs import words_failures as wf
from bot.studio.personal import gone
from bot.studio.rights import rights
from sitter import contract as c
from sitter.engine_client import Engine

log = logging.getLogger(__name__)

PROTECTED = [{"problem": "protected"}]  # a code: the words are made when it is shown


@dataclass
class Reached:
    """What protecting a face reached beyond the reported owner."""

    users: set[int] = field(default_factory=set)
    photos: int = 0
    portraits: int = 0
    orders: list[int] = field(default_factory=list)
    unchecked_sets: int = 0  # the engine did not answer for these (logged)


async def _sets_with_faces(mod: ModerationStore, skip_users: set[int]) -> dict[int, list[Any]]:
    rows = await mod.photos_with_faces()
    sets: dict[int, list[Any]] = {}
    for r in rows:
        if r["user_id"] not in skip_users:
            sets.setdefault(r["set_id"], []).append(r)
    return sets


async def protect_everywhere(
    store: Store,
    engine: Engine | None,
    protected: list[c.ProtectedFace],
    actor: str,
    report_id: int | None,
    skip_users: set[int],
    timeout_s: float,
) -> Reached:
    """Delete every account's photos of the newly ``protected`` faces and the portraits
    made from them (see the module docstring), but for ``skip_users``: the reported
    owner (already purged), and whoever the face belongs to (their own /protect, or the
    reporter of "it's me")."""
    done = Reached()
    if engine is None or not protected:
        return done
    mod = ModerationStore(store)
    prefix = await rights.job_prefix(store, engine)
    for set_id, photos in (await _sets_with_faces(mod, skip_users)).items():
        user_id = photos[0]["user_id"]
        req = c.CheckSetRequest(
            embeddings=[
                c.Embedding(backend=p["backend"] or "", vector=json.loads(p["embedding"]))
                for p in photos
            ],
            protected=protected,
        )
        try:
            result = await engine.call(
                c.JOB_CHECK_SET,
                req,
                job_id=rights.analysis_job_id(prefix, user_id),
                timeout=timeout_s,
            )
        except TimeoutError:
            result = None
        if not isinstance(result, c.CheckSetResult):
            done.unchecked_sets += 1
            continue
        hits = sorted({m.index for m in result.protected_matches if 0 <= m.index < len(photos)})
        if not hits:
            continue
        # The portraits made from the set: its orders, their retries and follow-ups.
        orders = await reach.related_orders(store, await mod.first_order_of_set(set_id))
        live, vjs = await store.work_in_flight(order_ids=orders)
        await reach._stop_orders(store, engine, live, vjs, wf.STOPPED_BY_MODERATOR)
        portraits = 0
        for oid in orders:
            portraits += (await mod.remove_order_images(oid)).results
        for i in hits:
            await rs.refuse_photo(store, photos[i]["id"], PROTECTED)
        await store.set_status(set_id, "collecting")
        await gone.drop_models(store, engine, user_id, set_id)  # learned from the face
        await rights.drop_person_jobs(store, engine, user_id)
        ids = sorted({m.protected_id for m in result.protected_matches})
        await mod.log(
            actor,
            "protect_reach",
            target_user_id=user_id,
            report_id=report_id,
            reason="protected_face",
            detail={
                "set_id": set_id,
                "photos": len(hits),
                "orders": orders,
                "portraits": portraits,
                "protected_face_ids": ids,
            },
        )
        done.users.add(user_id)
        done.photos += len(hits)
        done.portraits += portraits
        done.orders += orders
    if done.unchecked_sets:
        log.warning("protect: %d sets could not be checked (engine)", done.unchecked_sets)
    return done
