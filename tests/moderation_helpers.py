"""Shared pieces of the moderation, rights and audit tests: seeding a person with
real rows and real files, walking the database and media folder for leftovers,
and printing the moderators' view of a report."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from bot.store.store import Store
from bot.studio.core.events import Recipient, Reply

# Every table column that points at a user (the audit log is deliberately absent:
# it keeps who did what to whom, by id, after the rows are gone).
USER_COLUMNS = [
    ("users", "id"),
    ("consents", "user_id"),
    ("reference_sets", "user_id"),
    ("reference_photos", "user_id"),
    ("wizard_sessions", "user_id"),
    ("orders", "user_id"),
    ("variations", "user_id"),
    ("variation_jobs", "user_id"),
    ("order_looks", "user_id"),
    ("reports", "owner_user_id"),
    ("protected_faces", "owner_user_id"),
    ("pending_inputs", "user_id"),
]
# The adapters' tables name the person by platform id (a Telegram private chat's id is
# the user's id; the message key starts with the chat id).
PLATFORM_COLUMNS = [
    ("platform_messages", "chat_id = ? OR key LIKE ? || ':%'"),
    ("discord_studio_threads", "user_id = ?"),
]


def picture(text: str, size: int = 64) -> bytes:
    """A small real PNG, different for each ``text`` (media files are content-addressed:
    two equal pictures would be one file). The colour comes from a stable digest;
    ``hash()`` changes per process and, modulo a small number, collides."""
    digest = hashlib.sha256(text.encode()).digest()
    im = Image.new("RGB", (size, size), (digest[0], digest[1], digest[2]))
    ImageDraw.Draw(im).text((4, 24), text[:8], fill=(255, 255, 255))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


async def seed_person(
    store: Store,
    platform: str,
    pid: str,
    *,
    photos: int = 3,
    variations: int = 4,
    chat: str | None = None,
    tag: str = "",
) -> dict[str, Any]:
    """A consented person with reference photos (+ crops and embeddings), one delivered
    order with portraits and an upscaled copy: real rows, real files under media/."""
    chat = chat or f"{pid}-chat"
    user = await store.ensure_user(platform, pid, pid.title(), chat)
    uid = user["id"]
    await store.record_consent(uid, "test", "consent text")
    ref = await store.current_set(uid)
    for n in range(photos):
        rel, sha = store.media.put(uid, "refs", picture(f"{pid}{tag} ref {n}"), "png")
        crop, _ = store.media.put(uid, "crops", picture(f"{pid}{tag} crop {n}"), "png")
        photo_id = await store.add_photo(ref["id"], uid, sha, rel, f"{n}.png")
        vec = [((n + 1) * (k + 1)) % 7 / 7.0 for k in range(128)]
        await store.update_photo(
            photo_id, "accepted", [], embedding=vec, backend="dlib", crop_path=crop
        )
    order_id = await store.create_order(
        uid, ref["id"], platform, chat, "cinematic", {"attire": "a suit"},
        "cinematic film still of a person, wearing a suit", "", {}, [1, 2, 3, 4],
    )  # fmt: skip
    await store.set_order(order_id, status="delivered")
    vids = []
    for idx in range(1, variations + 1):
        rel, sha = store.media.put(uid, "results", picture(f"{pid}{tag} result {idx}"), "png")
        vid = await store.add_variation(order_id, uid, idx, idx, rel, sha, 0.8, True, True, 1)
        vids.append(vid)
    vj = await store.create_variation_job(vids[0], uid, "upscale")
    up, _ = store.media.put(uid, "upscaled", picture(f"{pid}{tag} upscaled", 128), "png")
    await store.set_variation_job(vj, status="delivered", path=up)
    await store.save_session(uid, "idle", {"style": "cinematic"})
    return {"user_id": uid, "order_id": order_id, "set_id": ref["id"], "variations": vids}


async def leftovers(store: Store, user_id: int, pid: str | None = None) -> dict[str, Any]:
    """Rows that still point at ``user_id`` (or at platform id ``pid``) and files still
    in their media folder."""
    found: dict[str, Any] = {}
    for table, col in USER_COLUMNS:
        row = await store.one(f"SELECT COUNT(*) FROM {table} WHERE {col} = ?", user_id)
        if row and row[0]:
            found[f"{table}.{col}"] = row[0]
    for table, where in PLATFORM_COLUMNS if pid is not None else []:
        args = [pid] * where.count("?")
        row = await store.one(f"SELECT COUNT(*) FROM {table} WHERE {where}", *args)
        if row and row[0]:
            found[table] = row[0]
    folder = store.media.user_dir(user_id)
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
    if files:
        found["files"] = [str(p.relative_to(store.media.root)) for p in files]
    return found


def all_media(store: Store) -> set[str]:
    root = store.media.root
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


async def audit_actions(store: Store) -> list[tuple[str, str, dict[str, Any]]]:
    rows = await store.all("SELECT actor, action, detail FROM moderation_actions ORDER BY id")
    return [(r["actor"], r["action"], json.loads(r["detail"])) for r in rows]


def moderator_view(transcript: list[tuple[str, Recipient | str, Reply]]) -> str:
    """The moderators' (and the two people's) view of one report, as plain text."""
    out = []
    for who, where, reply in transcript:
        to = where if isinstance(where, str) else f"{where.platform}:{where.chat_id}"
        out.append(f"--- {who} @ {to}" + (f" (edits {reply.edit_key})" if reply.edit_key else ""))
        out.append(reply.text)
        for img in reply.images:
            caption = f" – {img.caption}" if img.caption else ""
            out.append(f"[image: {Path(img.path).name}{caption}]")
        for row in reply.buttons:
            out.append("  " + "  ".join(f"[{b.label}]" for b in row))
    return "\n".join(out)
