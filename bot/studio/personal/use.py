"""A personal model in an order: the person's ready, enabled model of the set the order
is painted from travels with its request (``GenerateRequest.personal``: the file's
bytes, read from disk when the request is built, never kept in Redis past the job)."""

from __future__ import annotations

import hashlib
import logging

from bot.store.store import Store
from sitter import contract as c

log = logging.getLogger(__name__)


async def personal_for(store: Store, user_id: int, set_id: int | None) -> c.PersonalModel | None:
    """The model an order of this person on this set uses now; None: none, switched
    off, or its file is missing or not what was stored (logged, the order goes on
    without it)."""
    if set_id is None:
        return None
    row = await store.ready_personal(user_id, set_id)
    if row is None or not row["enabled"] or not row["path"]:
        return None
    try:
        data = store.media.read(str(row["path"]))
    except (OSError, ValueError):
        log.warning("personal model %s: its file is gone; the order goes without it", row["id"])
        return None
    if hashlib.sha256(data).hexdigest() != row["sha256"]:
        log.warning("personal model %s: its file changed; the order goes without it", row["id"])
        return None
    return c.PersonalModel(lora=data, sha256=str(row["sha256"]))


async def in_use(store: Store, user_id: int, set_id: int | None) -> bool:
    """The person's next order on this set would use their model (the summary says so)."""
    if set_id is None:
        return False
    row = await store.ready_personal(user_id, set_id)
    return row is not None and bool(row["enabled"])
