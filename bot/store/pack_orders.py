"""Pack orders (migration 0009): the order row names the pack, each look is a row of
``order_looks`` with its own job; images are counted for the daily quota."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.store.base import Db, Row
from bot.store.codes import ACTIVE_SQL, LookStatus, OrderStatus, sql_in
from bot.store.pet_sets import COPY_SITTER


@dataclass(frozen=True)
class NewLook:
    """One look of a new pack order, as the studio composed it."""

    name: str
    style: str
    choices: dict[str, str]
    prompt: str
    negative_prompt: str
    params: dict[str, Any]
    seeds: list[int]


class PackOrders(Db):
    async def create_pack_order(
        self,
        user_id: int,
        set_id: int | None,
        platform: str,
        chat_id: str,
        pack: str,
        choices: dict[str, Any],
        looks: list[NewLook],
        retry_of: int | None = None,
    ) -> int:
        """The order row and its looks, together or not at all."""
        images = sum(len(look.seeds) for look in looks)
        async with self.tx():
            order_id = await self.run(
                "INSERT INTO orders (user_id, set_id, retry_of, platform, chat_id, style, "
                "choices, prompt, pack, images) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?)",
                user_id,
                set_id,
                retry_of,
                platform,
                chat_id,
                looks[0].style,
                json.dumps(choices, ensure_ascii=False),
                pack,
                images,
            )
            first = 1
            for idx, look in enumerate(looks, 1):
                await self.run(
                    "INSERT INTO order_looks (order_id, user_id, idx, name, style, choices, "
                    "prompt, negative_prompt, params, seeds, first) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    order_id,
                    user_id,
                    idx,
                    look.name,
                    look.style,
                    json.dumps(look.choices, ensure_ascii=False),
                    look.prompt,
                    look.negative_prompt,
                    json.dumps(look.params),
                    json.dumps(look.seeds),
                    first,
                )
                first += len(look.seeds)
            if set_id is not None:
                await self.run(COPY_SITTER, order_id)
        return order_id

    async def looks(self, order_id: int) -> list[Row]:
        return await self.all("SELECT * FROM order_looks WHERE order_id = ? ORDER BY idx", order_id)

    async def look_jobs_in_flight(self) -> list[str]:
        return [
            str(r["job_id"])
            for r in await self.all(
                f"SELECT job_id FROM order_looks WHERE status IN {ACTIVE_SQL} "
                "AND job_id IS NOT NULL"
            )
        ]

    async def stopped_look_jobs(self) -> list[tuple[int, str]]:
        """(look id, job id) of looks a cancel stopped while painted, whose job may still
        leave a result behind (the tracker drops it, then forgets the job id)."""
        rows = await self.all(
            f"SELECT id, job_id FROM order_looks WHERE status = '{LookStatus.STOPPED}' "
            "AND job_id IS NOT NULL"
        )
        return [(int(r["id"]), str(r["job_id"])) for r in rows]

    async def forget_look_job(self, look_id: int) -> None:
        await self.run("UPDATE order_looks SET job_id = NULL WHERE id = ?", look_id)

    async def set_look(self, look_id: int, **fields: Any) -> None:
        allowed = {"status", "error", "job_id", "enqueues", "delivered_at"}
        if not fields or set(fields) - allowed:
            raise ValueError(f"cannot set {sorted(set(fields) - allowed)} on a look")
        cols = ", ".join(f"{k} = ?" for k in fields)
        await self.run(f"UPDATE order_looks SET {cols} WHERE id = ?", *fields.values(), look_id)

    async def finish_look(self, look_id: int, **fields: Any) -> bool:
        """Like ``finish_order``: only while the look and its order are still in flight."""
        if not fields or set(fields) - {"status", "error"}:
            raise ValueError(f"cannot finish a look with {sorted(fields)}")
        cols = ", ".join(f"{k} = ?" for k in fields)
        changed = await self.run(
            f"UPDATE order_looks SET {cols} WHERE id = ? AND status IN {ACTIVE_SQL} "
            f"AND order_id IN (SELECT id FROM orders WHERE status IN {ACTIVE_SQL})",
            *fields.values(),
            look_id,
        )
        return bool(changed)

    async def uncount_failed_looks(self, order_id: int) -> None:
        """A finished pack costs only the looks that were painted (as a failed order
        costs nothing): the failed looks' images leave its count."""
        await self.run(
            "UPDATE orders SET images = images - COALESCE((SELECT SUM(json_array_length(seeds)) "
            f"FROM order_looks WHERE order_id = ? AND status = '{LookStatus.FAILED}'), 0) "
            "WHERE id = ?",
            order_id,
            order_id,
        )

    async def images_since(self, user_id: int, since_iso: str) -> int:
        """Images ordered since then: what each order costs (``images``), except that a
        cancelled or failed order counts only the portraits it stored and the looks a
        cancel stopped while they were painted (the worker painted them)."""
        row = await self.one(
            "SELECT COALESCE(SUM(CASE WHEN status IN "
            f"{sql_in(OrderStatus.CANCELLED, OrderStatus.FAILED)} THEN "
            "(SELECT COUNT(*) FROM variations v WHERE v.order_id = orders.id) + "
            "(SELECT COALESCE(SUM(json_array_length(l.seeds)), 0) FROM order_looks l "
            f"WHERE l.order_id = orders.id AND l.status = '{LookStatus.STOPPED}') "
            "ELSE images END), 0) FROM orders WHERE user_id = ? AND created_at >= ?",
            user_id,
            since_iso,
        )
        return (int(row[0]) if row else 0) + await self._trainings_since(user_id, since_iso)

    async def _trainings_since(self, user_id: int, since_iso: str) -> int:
        """A personal model's training counts what it cost when asked (0017), unless it
        failed or was stopped before a step was learned."""
        row = await self.one(
            "SELECT COALESCE(SUM(quota_cost), 0) FROM personal_models WHERE user_id = ? "
            "AND created_at >= ? AND status != 'failed' "
            "AND NOT (status = 'cancelled' AND steps_done = 0)",
            user_id,
            since_iso,
        )
        return int(row[0]) if row else 0
