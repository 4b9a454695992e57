"""Orders, their variations (the portraits) and follow-up jobs (upscale, label)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.store.base import Db, Row, marks, now_iso
from bot.store.codes import (
    ACTIVE_SQL,
    IN_FLIGHT,
    TOLD,
    TOLD_SQL,
    FollowUpStatus,
    OrderStatus,
    Shown,
    sql_in,
)
from bot.store.pet_sets import COPY_SITTER
from bot.store.rows import Portrait

ACTIVE_ORDER = tuple(IN_FLIGHT)
FOLLOWED_ORDER = (*IN_FLIGHT, *TOLD)


class Orders(Db):
    # --- orders --------------------------------------------------------------------------
    async def create_order(
        self,
        user_id: int,
        set_id: int | None,
        platform: str,
        chat_id: str,
        style: str,
        choices: dict[str, Any],
        prompt: str,
        negative_prompt: str,
        params: dict[str, Any],
        seeds: list[int],
        retry_of: int | None = None,
        kind: str = "order",
        parent_variation_id: int | None = None,
        refine: dict[str, Any] | None = None,
    ) -> int:
        """An order; ``kind`` vary/relight: four new portraits from one portrait
        (``parent_variation_id``), with what was asked in ``refine``."""
        order_id = await self.run(
            "INSERT INTO orders (user_id, set_id, retry_of, platform, chat_id, style, choices, "
            "prompt, negative_prompt, params, seeds, kind, parent_variation_id, refine) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            user_id,
            set_id,
            retry_of,
            platform,
            chat_id,
            style,
            json.dumps(choices, ensure_ascii=False),
            prompt,
            negative_prompt,
            json.dumps(params),
            json.dumps(seeds),
            kind,
            parent_variation_id,
            json.dumps(refine, ensure_ascii=False) if refine is not None else None,
        )
        if set_id is not None:
            await self.run(COPY_SITTER, order_id)
        return order_id

    async def order(self, order_id: int) -> Row | None:
        return await self.one("SELECT * FROM orders WHERE id = ?", order_id)

    async def set_order(self, order_id: int, **fields: Any) -> None:
        allowed = {
            "status",
            "error",
            "job_id",
            "finished_at",
            "delivered_at",
            "enqueues",
        }
        if not fields or set(fields) - allowed:
            raise ValueError(f"cannot set {sorted(set(fields) - allowed)} on an order")
        cols = ", ".join(f"{k} = ?" for k in fields)
        await self.run(f"UPDATE orders SET {cols} WHERE id = ?", *fields.values(), order_id)

    async def finish_order(self, order_id: int, **fields: Any) -> bool:
        """Set ``fields`` (status done/failed ...) only while the order is still queued or
        running: False when a /cancel, a ban or a forget got there first."""
        if not fields or set(fields) - {"status", "error", "finished_at"}:
            raise ValueError(f"cannot finish an order with {sorted(fields)}")
        cols = ", ".join(f"{k} = ?" for k in fields)
        changed = await self.run(
            f"UPDATE orders SET {cols} WHERE id = ? AND status IN {ACTIVE_SQL}",
            *fields.values(),
            order_id,
        )
        return bool(changed)

    async def mark_running(self, order_id: int) -> None:
        await self.run(
            f"UPDATE orders SET status = '{OrderStatus.RUNNING}' WHERE id = ? "
            f"AND status = '{OrderStatus.QUEUED}'",
            order_id,
        )

    async def set_progress(self, shown: list[tuple[int, Shown]]) -> None:
        """What each order's progress message now shows (a code and params), for a batch
        of edits at once."""
        async with self.tx():
            for order_id, what in shown:
                await self.run(
                    "UPDATE orders SET progress_code = ?, progress_params = ? WHERE id = ?",
                    *what.columns(),
                    order_id,
                )

    async def orders_in_flight(self, order_ids: list[int]) -> dict[int, Shown | None]:
        """Which of these orders are still queued or running, with what each one's
        progress message shows (one read for a batch)."""
        if not order_ids:
            return {}
        rows = await self.all(
            f"SELECT id, progress_code, progress_params FROM orders WHERE id IN "
            f"({marks(order_ids)}) AND status IN {ACTIVE_SQL}",
            *order_ids,
        )
        return {int(r["id"]): Shown.read(r["progress_code"], r["progress_params"]) for r in rows}

    async def job_owner(
        self, job_id: str, sources: Sequence[tuple[str, str, str]]
    ) -> tuple[str, int] | None:
        """Who follows this engine job: (kind, id) from the first of ``sources`` — (kind,
        table, column): the kinds' table (bot/studio/jobs/kinds.py) — whose ``table``
        has a row with this ``job_id``; ``column`` names the item followed (a pack's
        look: its order). Job ids are unique; table and column come from code."""
        if not sources:
            return None
        sql = " UNION ALL ".join(
            f"SELECT '{kind}' AS kind, {column} AS id FROM {table} WHERE job_id = ?"
            for kind, table, column in sources
        )
        row = await self.one(sql + " LIMIT 1", *([job_id] * len(sources)))
        return (str(row["kind"]), int(row["id"])) if row is not None else None

    async def active_order(self, user_id: int) -> Row | None:
        return await self.one(
            f"SELECT * FROM orders WHERE user_id = ? AND status IN {ACTIVE_SQL} "
            "ORDER BY id DESC LIMIT 1",
            user_id,
        )

    async def last_order(self, user_id: int) -> Row | None:
        return await self.one(
            "SELECT * FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT 1", user_id
        )

    async def orders_since(self, user_id: int, since_iso: str) -> int:
        row = await self.one(
            "SELECT COUNT(*) FROM orders WHERE user_id = ? AND created_at >= ? "
            f"AND status NOT IN {sql_in(OrderStatus.CANCELLED, OrderStatus.FAILED)}",
            user_id,
            since_iso,
        )
        return int(row[0]) if row else 0

    async def orders_to_follow(self, *, packs: bool | None = None) -> list[Row]:
        """Orders still queued/running, or finished but not yet told to their owner: the
        columns the tracker's pass reads (it reads the whole row again before it acts).
        ``packs``: only pack orders (True), only one-style orders (False), both (None)."""
        which = {None: "", True: "AND pack IS NOT NULL ", False: "AND pack IS NULL "}[packs]
        return await self.all(
            "SELECT id, user_id, status, job_id, pack, kind, progress_code, progress_params, "
            "platform, chat_id, "
            f"delivered_at, enqueues FROM orders WHERE (status IN {ACTIVE_SQL} "
            f"OR (status IN {TOLD_SQL} AND delivered_at IS NULL) "
            # (0018) a joint order's partner copy still to send
            f"OR (status = '{OrderStatus.DELIVERED}' AND partner_user_id IS NOT NULL "
            "AND partner_delivered_at IS NULL)) "
            + which
            + "AND user_id NOT IN (SELECT id FROM users WHERE banned_at IS NOT NULL) ORDER BY id"
        )  # nothing is delivered to a banned owner (a ban cancels their queued work)

    # --- variations --------------------------------------------------------------------
    async def add_variation(
        self,
        order_id: int,
        user_id: int,
        idx: int,
        seed: int,
        path: str,
        sha256: str,
        likeness: float | None,
        face_found: bool,
        passed: bool,
        attempts: int,
        verdict: str | None = None,
        threshold: float | None = None,
        regenerated: str = "",
        detail: str | None = None,
        detail_gain: float | None = None,
    ) -> int:
        return await self.run(
            "INSERT INTO variations (order_id, user_id, idx, seed, path, sha256, likeness, "
            "face_found, passed, attempts, verdict, threshold, regenerated, detail, detail_gain) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (order_id, idx) DO UPDATE SET path = excluded.path",
            order_id,
            user_id,
            idx,
            seed,
            path,
            sha256,
            likeness,
            int(face_found),
            int(passed),
            attempts,
            verdict,
            threshold,
            regenerated,
            detail,
            detail_gain,
        )

    async def variations(self, order_id: int) -> list[Portrait]:
        rows = await self.all("SELECT * FROM variations WHERE order_id = ? ORDER BY idx", order_id)
        return [Portrait.of(r) for r in rows]

    async def variation(self, variation_id: int) -> Portrait | None:
        row = await self.one("SELECT * FROM variations WHERE id = ?", variation_id)
        return None if row is None else Portrait.of(row)

    # --- follow-up jobs (upscale, label) ----------------------------------------------------
    # (with its portrait's order: every message about a portrait names the order)
    _VJ = (
        "SELECT vj.*, v.order_id AS order_id FROM variation_jobs vj "
        "LEFT JOIN variations v ON v.id = vj.variation_id "
    )

    async def variation_job(self, variation_id: int, kind: str) -> Row | None:
        return await self.one(
            self._VJ + "WHERE vj.variation_id = ? AND vj.kind = ?", variation_id, kind
        )

    async def variation_job_by_id(self, vj_id: int) -> Row | None:
        return await self.one(self._VJ + "WHERE vj.id = ?", vj_id)

    async def create_variation_job(self, variation_id: int, user_id: int, kind: str) -> int:
        return await self.run(
            "INSERT INTO variation_jobs (variation_id, user_id, kind) VALUES (?, ?, ?)",
            variation_id,
            user_id,
            kind,
        )

    async def set_variation_job(self, vj_id: int, **fields: Any) -> None:
        allowed = {"status", "job_id", "path", "method", "error", "delivered_at", "enqueues"}
        allowed.add("more_paths")  # an avatar's other sizes (JSON list)
        if not fields or set(fields) - allowed:
            raise ValueError(f"cannot set {sorted(set(fields) - allowed)} on a variation job")
        cols = ", ".join(f"{k} = ?" for k in fields)
        await self.run(f"UPDATE variation_jobs SET {cols} WHERE id = ?", *fields.values(), vj_id)

    _FOLLOWED_VJ = (
        "SELECT vj.*, v.idx AS idx, v.order_id AS order_id, v.path AS source_path, "
        "o.platform AS platform, CASE WHEN vj.user_id = o.partner_user_id "
        "THEN o.partner_chat_id ELSE o.chat_id END AS chat_id FROM variation_jobs vj "
        "JOIN variations v ON v.id = vj.variation_id JOIN orders o ON o.id = v.order_id "
        f"WHERE (vj.status = '{FollowUpStatus.QUEUED}' OR (vj.status IN {TOLD_SQL} "
        "AND vj.delivered_at IS NULL)) "
        "AND vj.user_id NOT IN (SELECT id FROM users WHERE banned_at IS NOT NULL)"
    )

    async def variation_jobs_to_follow(self) -> list[Row]:
        return await self.all(self._FOLLOWED_VJ + " ORDER BY vj.id")

    async def variation_job_to_follow(self, vj_id: int) -> Row | None:
        """One follow-up as :meth:`variation_jobs_to_follow` lists it (None: not followed)."""
        return await self.one(self._FOLLOWED_VJ + " AND vj.id = ?", vj_id)

    async def withheld_count(self, order_id: int) -> int:
        """How many of an order's portraits the output safety check withheld."""
        row = await self.one(
            "SELECT COUNT(*) AS n FROM moderation_actions WHERE action = 'output_withheld' "
            "AND json_extract(detail, '$.order_id') = ?",
            order_id,
        )
        return int(row["n"]) if row is not None else 0

    # --- how far a decision reaches (bot/studio/moderation/reach.py, rights.py) -------------------
    async def order_links(self, order_id: int) -> list[int]:
        """Orders linked to this one: its retries, its original, the same reference set,
        and vary/relight orders made from its portraits or the portrait it was made from
        (a near copy of a removed portrait must go with it, even once the set is gone)."""
        row = await self.one(
            "SELECT id, set_id, partner_set_id, retry_of, parent_variation_id FROM orders "
            "WHERE id = ?",
            order_id,
        )
        if row is None:
            return []
        linked = await self.all(
            "SELECT id FROM orders WHERE retry_of = ? OR id = ? "
            "OR (set_id IS NOT NULL AND set_id = ?) "
            "OR (partner_set_id IS NOT NULL AND partner_set_id IN (?, ?)) "
            "OR (set_id IS NOT NULL AND set_id = ?) "
            "OR parent_variation_id IN (SELECT id FROM variations WHERE order_id = ?) "
            "OR id = (SELECT order_id FROM variations WHERE id = ?)",
            order_id,
            row["retry_of"] if row["retry_of"] is not None else -1,
            row["set_id"] if row["set_id"] is not None else -1,
            row["set_id"] if row["set_id"] is not None else -1,
            row["partner_set_id"] if row["partner_set_id"] is not None else -1,
            row["partner_set_id"] if row["partner_set_id"] is not None else -1,
            order_id,
            row["parent_variation_id"] if row["parent_variation_id"] is not None else -1,
        )
        return [order_id, *(int(r["id"]) for r in linked if r["id"] != order_id)]

    async def work_in_flight(
        self, *, order_ids: list[int] | None = None, user_id: int | None = None
    ) -> tuple[list[Row], list[Row]]:
        """(orders queued or running, follow-ups queued) of these orders or of this owner,
        each row with ``id`` and ``job_id``."""
        if order_ids is not None:
            if not order_ids:
                return [], []
            m = marks(order_ids)
            orders = await self.all(
                f"SELECT id, job_id FROM orders WHERE id IN ({m}) AND status IN {ACTIVE_SQL}",
                *order_ids,
            )
            orders += await self.all(  # a pack order's looks: one job each (0009)
                f"SELECT order_id AS id, job_id FROM order_looks WHERE order_id IN ({m}) "
                f"AND status IN {ACTIVE_SQL} AND job_id IS NOT NULL",
                *order_ids,
            )
            vjs = await self.all(
                "SELECT vj.id, vj.job_id FROM variation_jobs vj JOIN variations v "
                f"ON v.id = vj.variation_id WHERE v.order_id IN ({m}) "
                f"AND vj.status = '{FollowUpStatus.QUEUED}'",
                *order_ids,
            )
            return orders, vjs
        orders = await self.all(  # a joint order stops for either person (0018)
            "SELECT id, job_id FROM orders WHERE (user_id = ? OR partner_user_id = ?) "
            f"AND status IN {ACTIVE_SQL}",
            user_id,
            user_id,
        )
        orders += await self.all(  # a pack order's looks: one job each (0009)
            "SELECT order_id AS id, job_id FROM order_looks WHERE user_id = ? "
            f"AND status IN {ACTIVE_SQL} AND job_id IS NOT NULL",
            user_id,
        )
        vjs = await self.all(
            "SELECT id, job_id FROM variation_jobs WHERE user_id = ? "
            f"AND status = '{FollowUpStatus.QUEUED}'",
            user_id,
        )
        return orders, vjs

    async def stop_work(self, order_ids: list[int], vj_ids: list[int], why: str) -> None:
        """Cancel in-flight orders and fail queued follow-ups (never delivered)."""
        now = now_iso()
        for oid in order_ids:
            await self.run(
                f"UPDATE orders SET status = '{OrderStatus.CANCELLED}', error = ?, "
                f"finished_at = ?, delivered_at = ? WHERE id = ? AND status IN {ACTIVE_SQL}",
                why,
                now,
                now,
                oid,
            )
        for vj in vj_ids:
            await self.run(
                f"UPDATE variation_jobs SET status = '{FollowUpStatus.FAILED}', error = ?, "
                "delivered_at = ? "
                f"WHERE id = ? AND status = '{FollowUpStatus.QUEUED}'",
                why,
                now,
                vj,
            )

    async def person_job_ids(self, user_id: int) -> set[str]:
        """Every job id the person's orders and follow-ups were queued under."""
        rows = await self.all(
            "SELECT job_id FROM orders WHERE (user_id = ? OR partner_user_id = ?) "
            "AND job_id IS NOT NULL "
            "UNION SELECT job_id FROM variation_jobs WHERE user_id = ? AND job_id IS NOT NULL "
            "UNION SELECT job_id FROM order_looks WHERE user_id = ? AND job_id IS NOT NULL "
            # the other person's follow-ups of a joint portrait show this person (0018)
            "UNION SELECT vj.job_id FROM variation_jobs vj JOIN variations v "
            "ON v.id = vj.variation_id JOIN orders o ON o.id = v.order_id "
            "WHERE o.partner_user_id IS NOT NULL AND (o.user_id = ? OR o.partner_user_id = ?) "
            "AND vj.job_id IS NOT NULL",
            *[user_id] * 6,
        )
        return {str(r[0]) for r in rows}
