"""An order's format and described subject, the person's remembered description, and
the pages of /portraits (their finished orders, newest first)."""

from __future__ import annotations

from bot.store.base import Db, Row
from bot.store.codes import OrderStatus, sql_in

_SHOWN = sql_in(OrderStatus.DONE, OrderStatus.DELIVERED)  # orders whose portraits were made


class History(Db):
    # --- an order's format and subject -------------------------------------------------------
    async def set_order_look(self, order_id: int, aspect: str | None, subject: str | None) -> None:
        """What the order is drawn as: its format (None: the style's size) and how the
        person is described (None: the plain subject)."""
        await self.run(
            "UPDATE orders SET aspect = ?, subject = ? WHERE id = ?", aspect, subject, order_id
        )

    # --- the remembered description ----------------------------------------------------------
    async def remember_subject(self, user_id: int, text: str) -> None:
        await self.run(
            "INSERT INTO remembered_subjects (user_id, text) VALUES (?, ?) ON CONFLICT "
            "(user_id) DO UPDATE SET text = excluded.text, "
            "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            user_id,
            text,
        )

    async def remembered_subject(self, user_id: int) -> str | None:
        row = await self.one("SELECT text FROM remembered_subjects WHERE user_id = ?", user_id)
        return str(row["text"]) if row else None

    async def forget_subject(self, user_id: int) -> int:
        return await self.run("DELETE FROM remembered_subjects WHERE user_id = ?", user_id)

    # --- /portraits ------------------------------------------------------------------------
    async def portraits_page(
        self, user_id: int, since_iso: str, before: int | None, limit: int
    ) -> list[Row]:
        """Up to ``limit`` of the person's finished orders placed since ``since_iso`` (the
        retention cut) and older than order ``before`` (None: the newest), newest first;
        each with ``shown``: its portraits still there."""
        return await self.all(
            "SELECT o.*, (SELECT COUNT(*) FROM variations v WHERE v.order_id = o.id "
            "AND v.removed_at IS NULL AND v.path IS NOT NULL) AS shown FROM orders o "
            f"WHERE o.user_id = ? AND o.status IN {_SHOWN} AND o.created_at >= ? "
            "AND o.id < ? ORDER BY o.id DESC LIMIT ?",
            user_id,
            since_iso,
            before if before is not None else 2**63 - 1,
            limit,
        )
