"""SQL for data rights beyond deleting a person's rows: what /forget leaves in other
people's records (the audit log, reports) made anonymous, the daily quota carried
past /forget as a keyed fingerprint, the retention sweep of records (orders,
wizard sessions, empty reference sets, consents, idle accounts), and a WAL
checkpoint so deleted rows leave the database files at once.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from bot.store.base import marks
from bot.store.codes import ACTIVE_SQL
from bot.store.store import Row, Store, now_iso


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def pseudonym(user_id: int) -> str:
    """How the audit log names a forgotten person: our own number, which is never
    given to anyone else (migration 0007) and no longer leads to an account."""
    return f"user:{int(user_id)}"


# --- the daily quota across /forget ---------------------------------------------------------
async def _quota_key(store: Store) -> bytes:
    row = await store.one("SELECT value FROM meta WHERE key = 'quota_key'")
    assert row is not None, "migration 0007 not applied"
    return bytes.fromhex(str(row[0]))


async def quota_mark(store: Store, platform: str, platform_user_id: str, day: str) -> str:
    """HMAC of the day and the account: the same account finds its mark that day; the
    table alone names nobody, and marks of two days cannot be linked."""
    msg = f"{day}|{platform}:{platform_user_id}".encode()
    return hmac.new(await _quota_key(store), msg, hashlib.sha256).hexdigest()


async def carry_quota(store: Store, user: Row) -> int:
    """Before a forget: keep how many images the account ordered today (not what); the
    ``orders`` column holds that count since the quota counts images (0009)."""
    day = today()
    n = await store.images_since(user["id"], f"{day}T00:00:00.000Z")
    if n:
        mark = await quota_mark(store, user["platform"], user["platform_user_id"], day)
        await store.run(
            "INSERT INTO quota_marks (day, mark, orders) VALUES (?, ?, ?) "
            "ON CONFLICT (day, mark) DO UPDATE SET orders = quota_marks.orders + excluded.orders",
            day,
            mark,
            n,
        )
    return n


async def carry_joint_quota(store: Store, order_ids: list[int], but: int | None = None) -> None:
    """Before joint orders go (Delete by either person, either one's /forget): today's
    images they cost stay counted for whoever ordered them (``but``: the person being
    forgotten, whose own mark :func:`carry_quota` writes)."""
    if not order_ids:
        return
    day = today()
    rows = await store.all(
        f"SELECT u.platform, u.platform_user_id, SUM(CASE WHEN o.status IN "
        f"('cancelled', 'failed') THEN (SELECT COUNT(*) FROM variations v "
        f"WHERE v.order_id = o.id) ELSE o.images END) FROM orders o JOIN users u "
        f"ON u.id = o.user_id WHERE o.id IN ({marks(order_ids)}) AND o.created_at >= ? "
        f"AND o.user_id IS NOT ? GROUP BY o.user_id",
        *order_ids,
        f"{day}T00:00:00.000Z",
        but,
    )
    for platform, account, n in rows:
        if not n:
            continue
        mark = await quota_mark(store, platform, account, day)
        await store.run(
            "INSERT INTO quota_marks (day, mark, orders) VALUES (?, ?, ?) ON CONFLICT "
            "(day, mark) DO UPDATE SET orders = quota_marks.orders + excluded.orders",
            day,
            mark,
            int(n),
        )


async def carried_orders(store: Store, platform: str, platform_user_id: str) -> int:
    """Orders placed today by this account before it was forgotten."""
    day = today()
    mark = await quota_mark(store, platform, platform_user_id, day)
    row = await store.one("SELECT orders FROM quota_marks WHERE day = ? AND mark = ?", day, mark)
    return int(row[0]) if row else 0


# --- what stays in other people's records -----------------------------------------------------
async def scrub_person(store: Store, user: Row) -> dict[str, int]:
    """Before a forget: the audit log names the person by pseudonym, without what they
    typed; their report notes are emptied; what they were about to type is dropped.

    The log keeps the fact (who reported what, which decision) because moderation
    must be able to show its record; it no longer says who the person was.
    """
    uid = int(user["id"])
    handle = f"{user['platform']}:{user['platform_user_id']}"
    name = pseudonym(uid)
    like = handle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + " (%"
    done: dict[str, int] = {}
    async with store.tx():
        done["audit_typed"] = await store.run(
            "UPDATE moderation_actions SET detail = json_remove(detail, '$.text') "
            "WHERE (actor = ? OR actor LIKE ? ESCAPE '\\') AND json_valid(detail) "
            "AND json_extract(detail, '$.text') IS NOT NULL",
            handle,
            like,
        )
        done["audit_named"] = await store.run(
            "UPDATE moderation_actions SET actor = ? WHERE actor = ? OR actor LIKE ? ESCAPE '\\'",
            name,
            handle,
            like,
        )
        done["decisions_named"] = await store.run(
            "UPDATE reports SET decided_by = ? WHERE decided_by = ? OR decided_by LIKE ? "
            "ESCAPE '\\'",
            name,
            handle,
            like,
        )
        done["report_notes"] = await store.run(
            "UPDATE reports SET text = '' WHERE reporter_user_id = ? AND text != ''", uid
        )
        # A /protect request's selfie measurements (*_protect_requests.sql) go with the
        # person; an open request has nothing left to protect and is closed.
        done["protect_requests"] = await store.run(
            "UPDATE reports SET face_backend = NULL, face_embedding = NULL, "
            "status = CASE status WHEN 'open' THEN 'decided' ELSE status END, "
            "decision = COALESCE(decision, 'dismiss'), decided_by = COALESCE(decided_by, 'system') "
            "WHERE reporter_user_id = ? AND face_embedding IS NOT NULL",
            uid,
        )
        await store.run("DELETE FROM pending_inputs WHERE user_id = ?", uid)
        done["platform_rows"] = await _drop_platform_ids(store, user)
        if user["banned_at"]:  # the row stays for the ban: only the platform id is needed
            await store.run("UPDATE users SET display_name = '', chat_id = NULL WHERE id = ?", uid)
    return done


async def _drop_platform_ids(store: Store, user: Row) -> int:
    """The adapters' own rows naming the person's chats: the message ids kept for edits
    (a Telegram private chat's id is the user's id, in ``chat_id`` and in the key
    prefix) and the private Discord studio threads opened for them."""
    platform, pid = str(user["platform"]), str(user["platform_user_id"])
    chats = {pid, *([str(user["chat_id"])] if user["chat_id"] else [])}
    for r in await store.all(
        "SELECT DISTINCT chat_id FROM orders WHERE user_id = ? AND platform = ?",
        int(user["id"]),
        platform,
    ):
        chats.add(str(r["chat_id"]))
    threads, n = await store.forget_adapter_chats(platform, pid)  # an adapter's own tables
    chats |= threads
    for chat in sorted(chats):
        prefix = chat.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ":%"
        n += await store.run(
            "DELETE FROM platform_messages WHERE platform = ? AND (chat_id = ? "
            "OR key LIKE ? ESCAPE '\\')",
            platform,
            chat,
            prefix,
        )
    return n


async def checkpoint(store: Store) -> bool:
    """Write the WAL back into the database and empty it: with secure_delete on, deleted
    rows are then gone from both files, not only once the process exits."""
    return await store.checkpoint()  # through the store's lock (bot/store/base.py)


# --- the retention sweep of records ------------------------------------------------------------
async def sweep_records(store: Store, reference_days: int, result_days: int) -> dict[str, int]:
    """Records past their time: finished orders (prompts, typed answers, seeds) after the
    result period; wizard sessions untouched for the reference period; reference sets
    with no photo left; consents and accounts with nothing left at all."""
    ref_cut = now_iso(-timedelta(days=reference_days))
    res_cut = now_iso(-timedelta(days=result_days))
    old_orders = await store.all(
        f"SELECT id FROM orders WHERE created_at < ? AND status NOT IN {ACTIVE_SQL}",
        res_cut,
    )
    ids = [r["id"] for r in old_orders]
    paths: list[str | None] = []
    if ids:
        marks = ",".join("?" * len(ids))
        rows = await store.all(
            f"SELECT path FROM variations WHERE order_id IN ({marks}) UNION ALL "
            "SELECT vj.path FROM variation_jobs vj JOIN variations v ON v.id = vj.variation_id "
            f"WHERE v.order_id IN ({marks}) UNION ALL SELECT m.value FROM variation_jobs vj "
            f"JOIN variations v ON v.id = vj.variation_id, json_each(vj.more_paths) m "
            f"WHERE v.order_id IN ({marks})",
            *ids,
            *ids,
            *ids,
        )
        paths = [r["path"] for r in rows]
    idle = (
        "SELECT u.id FROM users u WHERE u.created_at < ? AND u.banned_at IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM reference_photos p WHERE p.user_id = u.id) "
        "AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id) "
        "AND NOT EXISTS (SELECT 1 FROM wizard_sessions s WHERE s.user_id = u.id) "
        "AND NOT EXISTS (SELECT 1 FROM pending_inputs i WHERE i.user_id = u.id) "
        "AND NOT EXISTS (SELECT 1 FROM protected_faces f WHERE f.owner_user_id = u.id "
        "AND f.source = 'self' AND f.lifted_at IS NULL) "
        "AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.status = 'open' "
        "AND (r.reporter_user_id = u.id OR r.owner_user_id = u.id))"
    )
    done: dict[str, int] = {}
    async with store.tx():
        for oid in ids:
            await store.run("DELETE FROM orders WHERE id = ?", oid)  # portraits cascade
        done["orders"] = len(ids)
        done["sessions"] = await store.run(
            "DELETE FROM wizard_sessions WHERE updated_at < ?", ref_cut
        )
        done["subjects"] = await store.run(  # the remembered description, like a session
            "DELETE FROM remembered_subjects WHERE updated_at < ?", ref_cut
        )
        done["reference_sets"] = await store.run(
            "DELETE FROM reference_sets WHERE created_at < ? AND NOT EXISTS "
            "(SELECT 1 FROM reference_photos p WHERE p.set_id = reference_sets.id) "
            "AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.set_id = reference_sets.id "
            f"AND o.status IN {ACTIVE_SQL})",
            ref_cut,
        )
        users = [r["id"] for r in await store.all(idle, ref_cut)]
        done["consents"] = 0
        for uid in users:
            done["consents"] += await store.run("DELETE FROM consents WHERE user_id = ?", uid)
            await store.run("DELETE FROM users WHERE id = ?", uid)
        done["accounts"] = len(users)
        done["quota_marks"] = await store.run("DELETE FROM quota_marks WHERE day < ?", today())
    done["record_files"] = await store.drop_files(paths)
    return done


# --- refused photos ---------------------------------------------------------------------------
async def refuse_photo(store: Store, photo_id: int, reasons: list[dict[str, str]]) -> None:
    """A refused photo keeps only its hash (to say "you sent this one before") and the
    reason; the file, its crop, embedding and file name are deleted at once."""
    import json

    row = await store.one("SELECT path, crop_path FROM reference_photos WHERE id = ?", photo_id)
    if row is None:
        return
    await store.run(
        "UPDATE reference_photos SET status = 'refused', reasons = ?, path = '', "
        "crop_path = NULL, filename = '', embedding = NULL, backend = NULL WHERE id = ?",
        json.dumps(reasons),
        photo_id,
    )
    await store.drop_files([row["path"], row["crop_path"]])
