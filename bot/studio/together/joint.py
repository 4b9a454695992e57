"""Joint orders: what an order of two people adds to placing, painting, retrying and
delivering one, called from the orders and the tracker at those points (and nothing
else there knows about a second person).

The session's data holds the accepted invitation (``together``) and the placement
(``placement``); the order row names the partner, the partner's set, the invitation,
the placement and the partner's chat (migration 0018). The quota is the orderer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.store import rights_store as rs
from bot.store.rows import Portrait
from bot.store.store import Row, Store
from bot.studio.core import buttons as b
from bot.studio.core import words_chat as w
from bot.studio.core.events import Button, Image, Reply
from bot.studio.core.services import Services
from bot.studio.moderation import reach
from bot.studio.photos.photos import embedding
from bot.studio.portrait import followups
from bot.studio.together import buttons as tb
from bot.studio.together import words_together as wt
from bot.studio.together.shared import is_joint
from sitter import contract as c

TOGETHER = "together"  # session data: the accepted invitation's id
PLACEMENT = "placement"  # session data and the wizard step: how the two stand
PARTNER_NAME = "partner_name"  # session data: who accepted, named in the order's summary


@dataclass(frozen=True)
class Partner:
    """Who the second person of a joint order is, checked at placing."""

    invitation_id: int
    user: Row
    set_id: int
    placement: str


def name(user: Row | None) -> str:
    return (user["display_name"] if user is not None else "") or "your partner"


def other_side(invitation: Row, user_id: int) -> int | None:
    """The other person of an invitation (None: not yet known)."""
    if invitation["inviter_user_id"] == user_id:
        return invitation["invitee_user_id"]
    return invitation["inviter_user_id"]


async def partner_refusal(
    s: Services, user: Row, choices: dict[str, Any]
) -> tuple[Reply | None, Partner | None]:
    """(refusal, None) when the joint order may not be placed, else (None, partner)."""
    inv = await s.store.invitation(int(choices.get(TOGETHER) or 0))
    if (
        inv is None
        or inv["status"] != "accepted"
        or inv["inviter_user_id"] != user["id"]
        or inv["invitee_user_id"] is None
    ):
        return Reply(wt.TOGETHER_ENDED), None
    partner = await s.store.user_by_id(inv["invitee_user_id"])
    if partner is None or partner["banned_at"]:
        return Reply(wt.TOGETHER_ENDED), None
    ref = await s.store.person_set(partner["id"])
    if ref["status"] != "ready" or not await s.store.photos(ref["id"], "accepted"):
        return Reply(wt.PARTNER_NOT_READY.format(name=name(partner))), None
    if await reach.check_set(s, partner, ref["id"]) is not None:  # protect reaches B too
        return Reply(wt.TOGETHER_ENDED), None
    mine = await s.store.current_set(user["id"])
    if await same_face(s, mine["id"], ref["id"], partner["id"]):  # two accounts, one face
        return Reply(wt.SAME_FACE), None
    placement = str(choices.get(PLACEMENT) or "side_by_side")
    if placement not in wt.PLACEMENTS:
        placement = "side_by_side"
    return None, Partner(inv["id"], partner, ref["id"], placement)


async def same_face(s: Services, set_id: int, partner_set_id: int, partner_id: int) -> bool:
    """Do the two sets show one face (a second account of the same person)? The
    partner's photos are checked against the first person's as if those were protected
    (the same threshold; the ``check_set`` job). No answer in time: False (the worker
    compares the two sets again before it paints)."""
    from bot.studio.rights import rights

    def emb(p: Any) -> c.Embedding:
        return c.Embedding(backend=p.backend, vector=p.embedding)

    mine = [p for p in await s.store.photos(set_id, "accepted") if p.embedding]
    theirs = [p for p in await s.store.photos(partner_set_id, "accepted") if p.embedding]
    if not mine or not theirs or not await s.engine.workers_alive(c.QUEUE_FAST):
        return False  # (no worker to ask: no wait; the GPU worker compares them anyway)
    req = c.CheckSetRequest(
        embeddings=[emb(p) for p in theirs],
        protected=[c.ProtectedFace(id=p.id, embedding=emb(p)) for p in mine],
    )
    job_id = rights.analysis_job_id(await s.job_prefix(), partner_id)
    try:
        result = await s.engine.call(
            c.JOB_CHECK_SET, req, job_id=job_id, timeout=s.analyze_timeout_s
        )
    except TimeoutError:
        return False
    return isinstance(result, c.CheckSetResult) and bool(result.protected_matches)


async def attach(store: Store, order_id: int, p: Partner) -> None:
    await store.set_joint(
        order_id,
        partner_user_id=p.user["id"],
        partner_set_id=p.set_id,
        invitation_id=p.invitation_id,
        placement=p.placement,
        partner_chat_id=p.user["chat_id"] or "",
    )


async def ended(store: Store, order: Row) -> str | None:
    """Why a joint order may not be made again (the invitation ended), else None."""
    if not is_joint(order):
        return None
    inv = await store.invitation(order["invitation_id"] or 0)
    partner = await store.user_by_id(order["partner_user_id"])
    if inv is None or inv["status"] != "accepted" or partner is None or partner["banned_at"]:
        return wt.TOGETHER_ENDED
    if not await store.photos(order["partner_set_id"] or 0, "accepted"):  # (a request
        return wt.PARTNER_NOT_READY.format(name=name(partner))  # without her is one person)
    return None


async def copy_joint(store: Store, order: Row, new_id: int) -> None:
    """A retry of a joint order is joint too (:func:`ended` said it may be)."""
    if not is_joint(order):
        return
    await store.set_joint(
        new_id,
        partner_user_id=order["partner_user_id"],
        partner_set_id=order["partner_set_id"],
        invitation_id=order["invitation_id"],
        placement=order["placement"],
        partner_chat_id=order["partner_chat_id"] or "",
    )


async def request_parts(store: Store, order: Row) -> dict[str, Any]:
    """The generation request's second person: their references and the placement."""
    if not is_joint(order) or not order["partner_set_id"]:
        return {}
    photos = await store.photos(order["partner_set_id"], "accepted")
    refs = [
        c.Reference(
            embedding=embedding(p),
            face_crop=store.media.read(p.crop_path) if p.crop_path else None,
            quality=p.quality,
        )
        for p in photos
    ]
    placement = order["placement"] or "side_by_side"
    # Every protected face but the two people's own /protect (each keeps others from
    # their face; she consented to this one): the worker checks both sets against it.
    theirs = {p.id for p in await reach.protected_for(store, order["partner_user_id"])}
    mine = await reach.protected_for(store, order["user_id"])
    protected = [p for p in mine if p.id in theirs]
    # One person's personal model is not for a portrait of two (the engine refuses it).
    return {
        "partner_references": refs,
        "placement": c.Placement(placement),
        "personal": None,
        "protected": protected,
    }


def partner_reply(s: Services, order: Row, variations: list[Portrait], inviter: str) -> Reply:
    """The partner's copy: the portraits with Upscale, Label, Report, Retry (charged to
    the orderer) and Delete for both."""
    images = tuple(
        Image(s.store.media.path(v.path), caption=f"#{v.idx}")
        for v in variations
        if v.path and not v.removed_at
    )
    rows: list[tuple[Button, ...]] = [
        (Button(wt.RETRY_FOR_BOTH.format(name=inviter), tb.joint("tr", order["id"])),),
        *followups.buttons(variations),
    ]
    if s.plugin is not None:
        rows.append(
            tuple(Button(w.REPORT_BUTTON.format(n=v.idx), b.report(v.id)) for v in variations)
        )
    rows.append((Button(wt.DELETE_JOINT, tb.joint("tz", order["id"]), "danger"),))
    return Reply(text=wt.partner_results(inviter, order["id"]), images=images, buttons=tuple(rows))


async def deliver_partner(s: Services, send: Any, order: Row) -> None:
    """After the orderer's copy went out: the partner's copy in the partner's own chat.
    ``send`` is the tracker's (platform, chat, reply) -> bool."""
    if not is_joint(order) or order["partner_delivered_at"]:
        return
    store = s.store
    inviter = await store.user_by_id(order["user_id"])
    variations = await store.variations(order["id"])
    if not variations:
        await store.set_partner_delivered(order["id"])
        return
    reply = partner_reply(s, order, variations, name(inviter))
    if await send(order["platform"], order["partner_chat_id"], reply):
        await store.set_partner_delivered(order["id"])


async def stop_joint(s: Services, invitation_id: int) -> list[Row]:
    """Withdrawn: queued or running joint orders of this invitation stop, their jobs are
    dropped from the queue and Redis. Returns the orders stopped."""
    store = s.store
    stopped = [
        o
        for o in await store.joint_orders(invitation_id=invitation_id)
        if o["status"] in ("queued", "running")
    ]
    jobs = [o["job_id"] for o in stopped if o["job_id"]]
    for job in jobs:
        await s.engine.remove_queued(job)
    await store.stop_joint_orders([int(o["id"]) for o in stopped])
    if jobs:
        await s.engine.drop(jobs)
    return stopped


async def delete_joint(s: Services, order_id: int) -> int:
    """Either person's Delete: the order's portraits and follow-ups, rows and files."""
    store = s.store
    order = await store.order(order_id)
    if order is None:
        return 0
    if order["status"] in ("queued", "running") and order["job_id"]:
        await s.engine.remove_queued(order["job_id"])
        await store.stop_joint_orders([order_id])
    jobs = await store.follow_up_jobs([order_id])  # an upscale queued: her face in Redis
    if order["job_id"]:
        jobs.append(order["job_id"])
    if jobs:
        await s.engine.drop(jobs)
    await rs.carry_joint_quota(store, [order_id])  # deleting gives no quota back
    paths = await store.delete_joint_orders([order_id])
    return await store.drop_files(paths)
