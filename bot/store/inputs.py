"""Typed input a flow waits for (a report's details, the selfie after /protect): one
pending input per person, with an expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.store.base import Row, now_iso

if TYPE_CHECKING:
    from bot.store.store import Store


class PendingInputs:
    store: Store

    async def expect_input(
        self, user_id: int, kind: str, ref: int | None = None, text: str = "", minutes: int = 15
    ) -> None:
        await self.store.run(
            "INSERT INTO pending_inputs (user_id, kind, ref, text, expires_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET kind = excluded.kind, "
            "ref = excluded.ref, text = excluded.text, expires_at = excluded.expires_at",
            user_id,
            kind,
            ref,
            text,
            now_iso(timedelta(minutes=minutes)),
        )

    async def pending_input(self, user_id: int) -> Row | None:
        return await self.store.one(
            "SELECT * FROM pending_inputs WHERE user_id = ? AND expires_at > ?", user_id, now_iso()
        )

    async def clear_input(self, user_id: int) -> None:
        await self.store.run("DELETE FROM pending_inputs WHERE user_id = ?", user_id)

    async def expire_inputs(self) -> int:
        return await self.store.run("DELETE FROM pending_inputs WHERE expires_at <= ?", now_iso())
