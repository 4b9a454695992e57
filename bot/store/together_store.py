"""Invitations and joint orders (migration 0018): portraits of two people.

An invitation row holds codes only: its status, the sha256 of its random token (the
token itself is never stored), the inviter, the invitee once known, when it lapses and
the invitation text version the invitee accepted. A joint order is an order row that
names the partner, the partner's reference set, the invitation and the placement.
"""

from __future__ import annotations

from typing import Any

from bot.store.base import Db, Row, marks, now_iso

OPEN = ("open", "claimed")  # waiting for the invitee's answer
LIVE = ("open", "claimed", "accepted")  # not ended


class Together(Db):
    # --- invitations -----------------------------------------------------------------------
    async def create_invitation(
        self,
        inviter_id: int,
        platform: str,
        token_sha256: str,
        expires_at: str,
        invitee_id: int | None = None,
    ) -> int:
        return await self.run(
            "INSERT INTO invitations (inviter_user_id, invitee_user_id, platform, status, "
            "token_sha256, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            inviter_id,
            invitee_id,
            platform,
            "claimed" if invitee_id is not None else "open",
            token_sha256,
            expires_at,
        )

    async def invitation(self, invitation_id: int) -> Row | None:
        return await self.one("SELECT * FROM invitations WHERE id = ?", invitation_id)

    async def invitation_by_token(self, token_sha256: str) -> Row | None:
        return await self.one("SELECT * FROM invitations WHERE token_sha256 = ?", token_sha256)

    async def claim_invitation(self, invitation_id: int, invitee_id: int) -> bool:
        """The link's first use names the invitee; True when this use was the first."""
        n = await self.run(
            "UPDATE invitations SET invitee_user_id = ?, status = 'claimed' "
            "WHERE id = ? AND status = 'open' AND expires_at > ?",
            invitee_id,
            invitation_id,
            now_iso(),
        )
        return n > 0

    async def answer_invitation(
        self,
        invitation_id: int,
        invitee_id: int,
        status: str,
        consent: tuple[str, str] | None = None,
    ) -> bool:
        """Accepted or declined, once, by the invitee, before it lapses. ``consent`` (the
        invitation text's version and words) is recorded as the invitee's own consent
        (kind ``together``), in the same transaction as the answer."""
        async with self.tx():
            n = await self.run(
                "UPDATE invitations SET status = ?, consent_version = ?, answered_at = ? "
                "WHERE id = ? AND invitee_user_id = ? AND status = 'claimed' AND expires_at > ?",
                status,
                consent[0] if consent else None,
                now_iso(),
                invitation_id,
                invitee_id,
                now_iso(),
            )
            if n > 0 and consent is not None:
                cid = await self.run(
                    "INSERT INTO consents (user_id, version, text, kind) "
                    "VALUES (?, ?, ?, 'together')",
                    invitee_id,
                    consent[0],
                    consent[1],
                )
                await self.run(
                    "UPDATE invitations SET consent_id = ? WHERE id = ?", cid, invitation_id
                )
        return n > 0

    async def end_invitation(self, invitation_id: int, by: int) -> bool:
        """Withdrawn by either person (open, claimed or accepted): the invitee's consent
        to it is withdrawn too."""
        async with self.tx():
            n = await self.run(
                f"UPDATE invitations SET status = 'withdrawn', ended_at = ?, ended_by = ? "
                f"WHERE id = ? AND status IN ({marks(LIVE)})",
                now_iso(),
                by,
                invitation_id,
                *LIVE,
            )
            await self.run(
                "UPDATE consents SET withdrawn_at = ? WHERE withdrawn_at IS NULL AND id = "
                "(SELECT consent_id FROM invitations WHERE id = ?)",
                now_iso(),
                invitation_id,
            )
        return n > 0

    async def expire_invitations(self) -> int:
        """Unanswered invitations past their time lapse (an accepted one stays)."""
        return await self.run(
            f"UPDATE invitations SET status = 'expired', ended_at = ? "
            f"WHERE status IN ({marks(OPEN)}) AND expires_at <= ?",
            now_iso(),
            *OPEN,
            now_iso(),
        )

    async def invitations_of(self, user_id: int, statuses: tuple[str, ...] = LIVE) -> list[Row]:
        """The person's live invitations, as inviter or invitee, newest first."""
        return await self.all(
            f"SELECT * FROM invitations WHERE (inviter_user_id = ? OR invitee_user_id = ?) "
            f"AND status IN ({marks(statuses)}) ORDER BY id DESC",
            user_id,
            user_id,
            *statuses,
        )

    # --- joint orders --------------------------------------------------------------------------
    async def set_joint(
        self,
        order_id: int,
        *,
        partner_user_id: int,
        partner_set_id: int,
        invitation_id: int,
        placement: str,
        partner_chat_id: str,
    ) -> None:
        await self.run(
            "UPDATE orders SET partner_user_id = ?, partner_set_id = ?, invitation_id = ?, "
            "placement = ?, partner_chat_id = ? WHERE id = ?",
            partner_user_id,
            partner_set_id,
            invitation_id,
            placement,
            partner_chat_id,
            order_id,
        )

    async def joint_orders(
        self, *, invitation_id: int | None = None, user_id: int | None = None
    ) -> list[Row]:
        """Joint orders of an invitation, or every joint order a person is in (either side)."""
        if invitation_id is not None:
            return await self.all("SELECT * FROM orders WHERE invitation_id = ?", invitation_id)
        return await self.all(
            "SELECT * FROM orders WHERE partner_user_id = ? "
            "OR (user_id = ? AND partner_user_id IS NOT NULL)",
            user_id,
            user_id,
        )

    async def stop_joint_orders(self, order_ids: list[int]) -> None:
        """Withdrawn or deleted by one of the two: cancelled (no failure: nothing failed),
        and never delivered."""
        now = now_iso()
        for oid in order_ids:
            await self.run(
                "UPDATE orders SET status = 'cancelled', finished_at = ?, delivered_at = ? "
                "WHERE id = ? AND status IN ('queued', 'running')",
                now,
                now,
                oid,
            )

    async def set_partner_delivered(self, order_id: int) -> None:
        await self.run(
            "UPDATE orders SET partner_delivered_at = ? WHERE id = ?", now_iso(), order_id
        )

    async def partner_undelivered(self) -> list[Row]:
        """Delivered joint orders whose partner's copy has not gone out yet."""
        return await self.all(
            "SELECT * FROM orders WHERE partner_user_id IS NOT NULL AND status = 'delivered' "
            "AND partner_delivered_at IS NULL"
        )

    async def delete_joint_orders(self, order_ids: list[int]) -> list[str]:
        """Delete joint orders with their portraits and follow-ups; the files' paths
        (for :meth:`drop_files` once the rows are gone)."""
        if not order_ids:
            return []
        m = marks(order_ids)
        paths: list[Any] = await self.all(
            f"SELECT v.path FROM variations v WHERE v.order_id IN ({m}) "
            f"UNION ALL SELECT vj.path FROM variation_jobs vj JOIN variations v "
            f"ON v.id = vj.variation_id WHERE v.order_id IN ({m}) "
            f"UNION ALL SELECT x.value FROM variation_jobs vj JOIN variations v "
            f"ON v.id = vj.variation_id, json_each(vj.more_paths) x WHERE v.order_id IN ({m})",
            *order_ids,
            *order_ids,
            *order_ids,
        )
        async with self.tx():
            await self.run(
                f"DELETE FROM variation_jobs WHERE variation_id IN "
                f"(SELECT id FROM variations WHERE order_id IN ({m}))",
                *order_ids,
            )
            await self.run(f"DELETE FROM variations WHERE order_id IN ({m})", *order_ids)
            await self.run(f"UPDATE orders SET retry_of = NULL WHERE retry_of IN ({m})", *order_ids)
            await self.run(f"DELETE FROM orders WHERE id IN ({m})", *order_ids)
        return [str(r[0]) for r in paths if r[0]]

    async def follow_up_jobs(self, order_ids: list[int]) -> list[str]:
        """The job ids of these orders' follow-ups (either person's), for Redis."""
        if not order_ids:
            return []
        rows = await self.all(
            f"SELECT vj.job_id FROM variation_jobs vj JOIN variations v "
            f"ON v.id = vj.variation_id WHERE v.order_id IN ({marks(order_ids)}) "
            f"AND vj.job_id IS NOT NULL",
            *order_ids,
        )
        return [str(r[0]) for r in rows]

    async def partner_counts(self, user_id: int) -> tuple[int, int]:
        """(joint orders, their portraits) the person is the partner in (not the orderer)."""
        row = await self.one(
            "SELECT COUNT(DISTINCT o.id), COUNT(v.id) FROM orders o LEFT JOIN variations v "
            "ON v.order_id = o.id WHERE o.partner_user_id = ?",
            user_id,
        )
        return (int(row[0]), int(row[1])) if row is not None else (0, 0)

    async def forget_joint(self, user_id: int) -> int:
        """Part of /forget (either person's): every joint portrait of theirs goes, for
        both, and their invitations. Returns the files deleted."""
        joint = [int(r["id"]) for r in await self.joint_orders(user_id=user_id)]
        paths = await self.delete_joint_orders(joint)
        await self.run(  # the other person's consent to these invitations ends with them
            "UPDATE consents SET withdrawn_at = ? WHERE withdrawn_at IS NULL AND id IN "
            "(SELECT consent_id FROM invitations WHERE inviter_user_id = ? OR invitee_user_id = ?)",
            now_iso(),
            user_id,
            user_id,
        )
        await self.run(
            "DELETE FROM invitations WHERE inviter_user_id = ? OR invitee_user_id = ?",
            user_id,
            user_id,
        )
        return await self.drop_files(paths)
