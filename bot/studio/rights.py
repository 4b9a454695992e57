"""Data rights: /forget and the retention sweep, each written to the audit log.

The row and file deletion itself is the studio Store's (``Store.forget``,
``Store.sweep_retention``); this module adds what the law and the moderators
need around it: a person's own protected-face embeddings go too, and every
deletion is recorded (who, when, what, how many).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.store.moderation_store import ModerationStore
from bot.store.store import ForgetCounts, Store
from sitter.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Forgotten(ForgetCounts):
    protections: int = 0  # the person's own /protect embeddings


async def forget(store: Store, user_id: int, actor: str | None = None) -> Forgotten:
    """Delete everything of one person (photos, orders, results, embeddings; rows and
    files) and log it. ``actor`` defaults to the person themself (``user:<id>``)."""
    mod = ModerationStore(store)
    open_reports = await store.all(
        "SELECT id FROM reports WHERE owner_user_id = ? AND status = 'open'", user_id
    )
    protections = await mod.delete_self_protection(user_id)
    counts = await store.forget(user_id)
    done = Forgotten(**counts.__dict__, protections=protections)
    detail: dict[str, object] = dict(done.__dict__)
    if open_reports:
        # The portraits a report points at are gone now; the moderators' copy stays.
        detail["open_reports"] = [r["id"] for r in open_reports]
    await mod.log(actor or f"user:{user_id}", "forget", target_user_id=user_id, detail=detail)
    return done


async def sweep(store: Store, settings: Settings) -> dict[str, int]:
    """Delete reference photos and results past their retention periods; log what went."""
    counts = await store.sweep_retention(
        settings.reference_retention_days, settings.result_retention_days
    )
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
