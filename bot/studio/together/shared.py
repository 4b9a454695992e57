"""Who shares a joint order: read by the follow-ups and the portrait menu (which the rest
of the feature imports, so this module imports nothing of it)."""

from __future__ import annotations

from typing import Any

from bot.store.store import Row, Store


def is_joint(order: Row | dict[str, Any]) -> bool:
    keys = order.keys()
    return "partner_user_id" in keys and order["partner_user_id"] is not None


async def shares(store: Store, order_id: int, user_id: int) -> bool:
    """True when ``user_id`` is the partner of this joint order (their own copy)."""
    order = await store.order(order_id)
    return order is not None and is_joint(order) and order["partner_user_id"] == user_id
