"""Data rights: /forget and the retention sweep, each written to the audit log.

The row and file deletion itself is the studio Store's (``Store.forget``,
``Store.sweep_retention``); this module adds what the law and the moderators
need around it: a person's own protected-face embeddings go too, the audit log
and reports keep a pseudonym instead of the person and none of their typed
text, today's order count survives as a keyed fingerprint (the daily quota),
the person's jobs and results still in Redis are deleted, the SQLite WAL is
checkpointed, and every deletion is recorded (who, when, what, how many).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.store import rights_store as rs
from bot.store.media import PACK_SHEETS, SHEETS, SHEETS_KEEP_S
from bot.store.moderation_store import ModerationStore
from bot.store.store import ForgetCounts, Store
from bot.studio.personal import gone
from sitter.config import Settings
from sitter.engine_client import Engine

if TYPE_CHECKING:  # the studio's shared parts (core imports this module's users)
    from bot.studio.core.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Forgotten(ForgetCounts):
    protections: int = 0  # the person's own /protect embeddings


async def forget(store: Store, user_id: int, actor: str | None = None) -> Forgotten:
    """Delete everything of one person (photos, orders, results, embeddings; rows and
    files) and log it. ``actor`` defaults to the person themself (``user:<id>``)."""
    mod = ModerationStore(store)
    open_reports = await mod.open_report_ids(user_id)
    user = await store.user_by_id(user_id)
    if user is not None:
        await rs.carry_quota(store, user)  # before the orders go: the daily limit holds
        joint = [int(r["id"]) for r in await store.joint_orders(user_id=user_id)]
        await rs.carry_joint_quota(store, joint, but=user_id)  # the other's, as theirs
        await rs.scrub_person(store, user)  # before the user row goes: reports name them
    protections = await mod.delete_self_protection(user_id)
    counts = await store.forget(user_id)
    done = Forgotten(**counts.__dict__, protections=protections)
    detail: dict[str, object] = dict(done.__dict__)
    if open_reports:
        # The portraits a report points at are gone now; the moderators' copy stays.
        detail["open_reports"] = open_reports
    await mod.log(actor or rs.pseudonym(user_id), "forget", target_user_id=user_id, detail=detail)
    await rs.checkpoint(store)
    return done


# --- the person's jobs in Redis -----------------------------------------------------------------
async def job_prefix(store: Store, engine: Engine) -> str:
    """The prefix of this database's job ids (the studio's ``job_prefix``)."""
    return f"{engine.prefix}-{await store.instance_id()}"


def analysis_job_id(prefix: str, user_id: int) -> str:
    """A photo check's job id names its person, so /forget and a purge can find it in
    Redis while it is still there (a bot that stopped before reading the answer)."""
    return f"{prefix}-a{int(user_id)}-{secrets.token_hex(6)}"


async def drop_person_jobs(
    store: Store, engine: Engine | None, user_id: int, job_ids: list[str] | None = None
) -> int:
    """Delete the person's jobs and kept results from Redis: the given ones (orders,
    follow-ups) and every photo check named for them. Returns the keys deleted."""
    if engine is None:
        return 0
    prefix = await job_prefix(store, engine)
    ids = set(job_ids or [])
    if job_ids is None:
        ids = set(await store.person_job_ids(user_id))
    # A personal model's training (queued or running) and its checkpoint: the job
    # carries the photos, the checkpoint what was learned from them.
    trainings = await store.personal_job_ids(user_id)
    n = await gone.drop_trainings(engine, trainings)
    return n + await engine.drop_named(sorted(ids - set(trainings)), f"{prefix}-a{int(user_id)}-")


async def carried_orders(store: Store, platform: str, platform_user_id: str) -> int:
    return await rs.carried_orders(store, platform, platform_user_id)


async def refused(
    store: Store,
    user_id: int,
    photo_id: int,
    reasons: list[dict[str, str]],
    protected_match: int | None = None,
) -> None:
    """A refused upload: the file goes at once; a protected face's match is logged
    (which protection, whose upload) without the photo."""
    await rs.refuse_photo(store, photo_id, reasons)
    if protected_match is not None:
        await ModerationStore(store).log(
            "system",
            "protected_match",
            target_user_id=user_id,
            reason="upload",
            detail={"photos": 1, "protected_face_ids": [protected_match]},
        )


async def forget_everywhere(studio: Services, user_id: int) -> Forgotten:
    """/forget: Redis first (while the rows still name the jobs), then the database."""
    await drop_person_jobs(studio.store, studio.engine, user_id)
    return await forget(studio.store, user_id)


async def sweep(store: Store, settings: Settings) -> dict[str, int]:
    """Delete reference photos and results past their retention periods; log what went."""
    counts = await store.sweep_retention(
        settings.reference_retention_days, settings.result_retention_days
    )
    records = await rs.sweep_records(
        store, settings.reference_retention_days, settings.result_retention_days
    )
    counts = {**counts, **{k: v for k, v in records.items() if v}}
    # Contact sheets (bot/studio/photos/reference_set.py) are pictures of reference photos: an hour.
    # A pack's sheet is a picture of its portraits, made for one message: an hour too.
    sheets = sum(store.media.sweep_kind(k, SHEETS_KEEP_S) for k in (SHEETS, PACK_SHEETS))
    if sheets:
        counts["contact_sheets"] = sheets
    mod = ModerationStore(store)
    expired = await mod.expire_inputs()
    if any(counts.values()):
        await mod.log(
            "system",
            "retention_sweep",
            reason=f"references after {settings.reference_retention_days} days, "
            f"results after {settings.result_retention_days} days",
            detail=counts,
        )
        log.info("retention sweep: %s", counts)
    return {**counts, "expired_inputs": expired}


def retention_sentence(settings: Settings) -> str:
    """One sentence on how long things are kept (consent screen, /privacy, /protect)."""
    return (
        f"Reference photos are deleted after {settings.reference_retention_days} days and "
        f"portraits after {settings.result_retention_days} days; /forget deletes everything "
        "at once. Your photos are used for nothing but your own orders."
    )
