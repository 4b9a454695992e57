"""Slash commands are uploaded to Discord only when they changed.

discord.py advises against ``tree.sync()`` on every start (it is rate limited, and
three restarts mean three uploads). The command set's JSON is hashed with the
application id and kept in the database's ``meta`` table; a start uploads only
when the hash differs, or when asked (``sitter bot --sync``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.store.store import Store

log = logging.getLogger(__name__)

META_KEY = "discord_commands"


def commands_digest(tree: Any, application_id: int | None) -> str:
    payload = sorted(
        (c.to_dict(tree) for c in tree.get_commands()), key=lambda d: (d["type"], d["name"])
    )
    from bot.discord.translator import catalogs_digest

    body = json.dumps([application_id, payload, catalogs_digest()], sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


async def sync_if_changed(tree: Any, store: Store, application_id: int | None, force: bool) -> bool:
    """Upload the commands when they changed (or ``force``); True when uploaded."""
    from bot.discord.translator import CatalogTranslator

    await tree.set_translator(CatalogTranslator())  # descriptions in each language, uploaded
    digest = commands_digest(tree, application_id)
    if not force and await store.meta_value(META_KEY) == digest:
        log.info("slash commands unchanged; not uploading them (sitter bot --sync forces it)")
        return False
    await tree.sync()
    await store.set_meta(META_KEY, digest)
    log.info("slash commands uploaded to Discord")
    return True
