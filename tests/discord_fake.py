"""Discord's side of the wire, faked at the HTTP edge for offline tests.

The adapter runs on discord.py's real client, models, interactions and view
store; only ``HTTPClient.request`` (REST), the webhook adapter (interaction
callbacks and follow-ups) and CDN downloads are answered here, with payloads
shaped like Discord's documented ones. Gateway events (a DM, an interaction)
are fed to the client's real ``ConnectionState`` parsers, as the gateway would.
Everything the bot sends is recorded in ``FakeDiscord.log`` for assertions.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import discord
from discord.webhook.async_ import AsyncWebhookAdapter

APP_ID = 900000000000000001
BOT_ID = APP_ID
GUILD_ID = 910000000000000001
CHANNEL_ID = 920000000000000001  # a server text channel
EPHEMERAL = 1 << 6
ALL_PERMISSIONS = str((1 << 47) - 1)
MEMBER_PERMISSIONS = str(0x400 | 0x800 | 0x80000000)  # view, send, use app commands


@dataclass
class Sent:
    """One thing the bot did on Discord, as the tests see it."""

    kind: str  # message | edit | callback | followup | typing | thread | dm_open | user | commands
    channel_id: int = 0
    message_id: int = 0
    content: str = ""
    components: list[dict[str, Any]] = field(default_factory=list)
    files: list[tuple[str, bytes, str]] = field(default_factory=list)  # name, data, alt text
    ephemeral: bool = False
    callback_type: int = 0
    custom_id: str = ""  # a modal's, for callbacks that open one
    interaction_id: int = 0  # for callbacks: which interaction was acknowledged
    at: float = field(default_factory=time.perf_counter)

    def custom_ids(self) -> list[str]:
        out = []
        for row in self.components:
            for c in row.get("components", []):
                if "custom_id" in c:
                    out.append(c["custom_id"])
        return out

    def labels(self) -> list[str]:
        out = []
        for row in self.components:
            for c in row.get("components", []):
                if c.get("type") == 2:
                    out.append(c.get("label", ""))
                elif c.get("type") == 3:
                    out.extend(o["label"] for o in c.get("options", []))
        return out

    def button(self, label: str) -> str:
        """The custom id of the button (or menu option value) with this label."""
        for row in self.components:
            for c in row.get("components", []):
                if c.get("type") == 2 and c.get("label") == label:
                    return c["custom_id"]
        raise AssertionError(f"no button {label!r} in {self.labels()} on {self.content!r}")


class FakeDiscord:
    def __init__(self) -> None:
        self._ids = itertools.count(1_000_000_000_000_000_000)
        self.log: list[Sent] = []
        self.users: dict[int, dict[str, Any]] = {}
        self.locales: dict[int, str] = {}  # a member's client language (default en-US)
        self.dm_of: dict[int, int] = {}  # user id -> DM channel id
        self.dms_closed: set[int] = set()
        self.threads: dict[int, dict[str, Any]] = {}  # private threads the bot opened
        self.guild_channels: set[int] = {CHANNEL_ID}  # text channels of the one server
        self.messages: dict[int, dict[str, Any]] = {}
        self.cdn: dict[str, bytes] = {}
        self.downloads: list[str] = []
        self.fail_next_sends = 0  # transient 503s before a send goes through
        self.gone_channels: set[int] = set()  # deleted channels: 404 Unknown Channel
        self.bot = self._user(BOT_ID, "Sitter", bot=True)
        self.dispatched: dict[int, float] = {}  # interaction id -> when the gateway sent it

    # --- ids and payloads ----------------------------------------------------------------
    def snowflake(self) -> int:
        return next(self._ids)

    def _user(self, uid: int, name: str, bot: bool = False) -> dict[str, Any]:
        data = {
            "id": str(uid),
            "username": name.lower(),
            "global_name": name,
            "discriminator": "0",
            "avatar": None,
            "bot": bot,
        }
        self.users[uid] = data
        return data

    def user(self, name: str) -> int:
        uid = self.snowflake()
        self._user(uid, name)
        return uid

    def _message(
        self,
        channel_id: int,
        author: dict[str, Any],
        content: str = "",
        components: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        flags: int = 0,
    ) -> dict[str, Any]:
        mid = self.snowflake()
        data = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "author": author,
            "content": content or "",
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": attachments or [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "components": components or [],
            "flags": flags,
        }
        self.messages[mid] = data
        return data

    def _attachments(self, files: list[tuple[str, bytes, str]]) -> list[dict[str, Any]]:
        out = []
        for name, data, alt in files:
            aid = self.snowflake()
            url = f"https://cdn.discordapp.com/attachments/1/{aid}/{name}"
            self.cdn[url] = data
            out.append(
                {
                    "id": str(aid),
                    "filename": name,
                    "size": len(data),
                    "url": url,
                    "proxy_url": url,
                    "description": alt or None,
                }
            )
        return out

    # --- the REST edge ---------------------------------------------------------------------
    def install(self, client: discord.Client) -> None:
        client.http.request = self._rest  # type: ignore[method-assign]
        client.http.get_from_cdn = self._cdn  # type: ignore[method-assign]

    async def _cdn(self, url: str) -> bytes:
        self.downloads.append(url)
        return self.cdn[url]

    @staticmethod
    def _read_files(files: Any) -> list[tuple[str, bytes, str]]:
        out = []
        for f in files or []:
            f.fp.seek(0)
            out.append((f.filename, f.fp.read(), f.description or ""))
        return out

    @staticmethod
    def _payload(kwargs: dict[str, Any], form: Any = None) -> dict[str, Any]:
        if "json" in kwargs and kwargs["json"] is not None:
            return kwargs["json"]
        if kwargs.get("payload") is not None:
            return kwargs["payload"]
        for part in form or kwargs.get("multipart") or []:
            if part.get("name") == "payload_json":
                return json.loads(part["value"])
        return {}

    def _fail(self, status: int, code: int, message: str) -> discord.HTTPException:
        response = SimpleNamespace(status=status, reason=message)
        cls = {403: discord.Forbidden, 404: discord.NotFound}.get(status, discord.HTTPException)
        if status >= 500:
            cls = discord.DiscordServerError
        return cls(response, {"code": code, "message": message})

    async def _rest(self, route: discord.http.Route, *, files: Any = None, form: Any = None, **kw):
        method, path = route.method, route.url.split("/api/v10", 1)[-1]
        parts = path.strip("/").split("/")
        body = self._payload(kw, form)
        if method == "GET" and path == "/users/@me":
            return self.bot
        if method == "GET" and path == "/oauth2/applications/@me":
            return {
                "id": str(APP_ID),
                "name": "Sitter",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self.bot,
                "verify_key": "00",
                "flags": 0,
            }
        if method == "PUT" and parts[:1] == ["applications"]:
            self.log.append(Sent("commands", content=",".join(c["name"] for c in body)))
            return [
                # Discord answers with an empty description for context-menu commands
                {"description": "", **c, "id": str(self.snowflake()), "application_id": str(APP_ID)}
                for c in body
            ]
        if method == "POST" and path == "/users/@me/channels":
            uid = int(body["recipient_id"])
            cid = self.dm_of.setdefault(uid, self.snowflake())
            self.log.append(Sent("dm_open", cid))
            return {"id": str(cid), "type": 1, "recipients": [self.users[uid]]}
        if parts[0] == "channels" and parts[2:3] == ["typing"]:
            self.log.append(Sent("typing", int(parts[1])))
            return None
        if method == "POST" and parts[0] == "channels" and parts[2:] == ["messages"]:
            cid = int(parts[1])
            owner = next((u for u, c in self.dm_of.items() if c == cid), None)
            if owner in self.dms_closed:
                raise self._fail(403, 50007, "Cannot send messages to this user")
            if cid in self.gone_channels:
                raise self._fail(404, 10003, "Unknown Channel")
            if self.fail_next_sends:
                self.fail_next_sends -= 1
                raise self._fail(503, 0, "Service Unavailable")
            got = self._read_files(files)
            msg = self._message(
                cid,
                self.bot,
                body.get("content") or "",
                body.get("components"),
                self._attachments(got),
                body.get("flags", 0),
            )
            self.log.append(
                Sent("message", cid, int(msg["id"]), msg["content"], msg["components"], got)
            )
            return msg
        if method == "PATCH" and parts[0] == "channels" and parts[2:3] == ["messages"]:
            mid = int(parts[3])
            if mid not in self.messages:
                raise self._fail(404, 10008, "Unknown Message")
            msg = self.messages[mid]
            for key in ("content", "components"):
                if key in body:
                    msg[key] = body[key] or ([] if key == "components" else "")
            got = self._read_files(files)
            if "attachments" in body:
                msg["attachments"] = self._attachments(got)
            msg["edited_timestamp"] = datetime.now(UTC).isoformat()
            self.log.append(
                Sent("edit", int(parts[1]), mid, msg["content"], msg["components"], got)
            )
            return msg
        if method == "POST" and parts[0] == "channels" and parts[2:] == ["threads"]:
            tid = self.snowflake()
            self.log.append(Sent("thread", tid, content=body.get("name", "")))
            self.threads[tid] = {
                "id": str(tid),
                "type": body.get("type", 12),
                "guild_id": str(GUILD_ID),
                "parent_id": parts[1],
                "name": body.get("name", ""),
                "owner_id": str(BOT_ID),
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": datetime.now(UTC).isoformat(),
                    "locked": False,
                },
                "message_count": 0,
                "member_count": 1,
                "rate_limit_per_user": 0,
                "flags": 0,
            }
            return self.threads[tid]
        if method == "GET" and parts[0] == "channels" and len(parts) == 2:
            cid = int(parts[1])
            if cid in self.threads:
                return self.threads[cid]
            raise self._fail(404, 10003, "Unknown Channel")
        if method == "PUT" and parts[0] == "channels" and parts[2:3] == ["thread-members"]:
            return None
        raise AssertionError(f"the fake Discord does not know {method} {path}")

    async def _webhook(self, route: Any, session: Any = None, **kw: Any) -> Any:
        """Interaction callbacks and follow-ups (discord.py sends these without the bot token)."""
        method, path = route.method, route.url.split("/api/v10", 1)[-1]
        parts = path.strip("/").split("/")
        body = self._payload(kw)
        got = self._read_files(kw.get("files"))
        if parts[0] == "interactions" and parts[-1] == "callback":
            data = body.get("data") or {}
            flags = data.get("flags", 0)
            self.log.append(
                Sent(
                    "callback",
                    content=data.get("content", "") or data.get("title", ""),
                    components=data.get("components", []),
                    files=got,
                    ephemeral=bool(flags & EPHEMERAL),
                    callback_type=body["type"],
                    custom_id=data.get("custom_id", ""),
                    interaction_id=int(parts[1]),
                )
            )
            return {"interaction": {"id": parts[1], "type": body["type"]}}
        if parts[0] == "webhooks" and method == "POST":
            flags = body.get("flags", 0)
            msg = self._message(
                CHANNEL_ID,
                self.bot,
                body.get("content") or "",
                body.get("components"),
                self._attachments(got),
                flags,
            )
            self.log.append(
                Sent(
                    "followup",
                    CHANNEL_ID,
                    int(msg["id"]),
                    msg["content"],
                    msg["components"],
                    got,
                    ephemeral=bool(flags & EPHEMERAL),
                )
            )
            return msg
        if parts[0] == "webhooks" and method in ("PATCH", "DELETE"):
            return self._message(CHANNEL_ID, self.bot, body.get("content") or "")
        raise AssertionError(f"the fake Discord does not know webhook {method} {path}")

    # --- what users do -------------------------------------------------------------------
    def _member(self, uid: int, permissions: str, roles: list[str]) -> dict[str, Any]:
        return {
            "user": self.users[uid],
            "roles": roles,
            "joined_at": datetime.now(UTC).isoformat(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": permissions,
        }

    def _interaction(
        self, itype: int, uid: int, data: dict[str, Any], *, channel_id: int | None, **extra: Any
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(self.snowflake()),
            "application_id": str(APP_ID),
            "type": itype,
            "token": f"tok-{self.snowflake()}",
            "version": 1,
            "data": data,
            "locale": self.locales.get(uid, "en-US"),
            "attachment_size_limit": 10 * 1024 * 1024,
            "entitlements": [],
            "authorizing_integration_owners": {},
            "app_permissions": ALL_PERMISSIONS,
        }
        if channel_id is None or channel_id in self.guild_channels or channel_id in self.threads:
            cid = channel_id or CHANNEL_ID
            channel = self.threads.get(cid) or {
                "id": str(cid),
                "type": 0,
                "guild_id": str(GUILD_ID),
                "name": "general" if cid == CHANNEL_ID else f"channel-{cid}",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
            }
            payload.update(
                guild_id=str(GUILD_ID),
                guild_locale="en-US",
                channel_id=str(cid),
                channel=channel,
                member=self._member(
                    uid, extra.get("permissions", MEMBER_PERMISSIONS), extra.get("roles", [])
                ),
                context=0,
            )
        else:
            payload.update(
                channel_id=str(channel_id),
                channel={"id": str(channel_id), "type": 1, "recipients": [self.users[uid]]},
                user=self.users[uid],
                context=1,
            )
        if "message" in extra:
            payload["message"] = extra["message"]
        self.dispatched[int(payload["id"])] = time.perf_counter()
        return payload

    def ack_latencies(self) -> list[float]:
        """Seconds from each interaction's arrival to the bot's acknowledgement."""
        return [
            s.at - self.dispatched[s.interaction_id]
            for s in self.log
            if s.kind == "callback" and s.interaction_id in self.dispatched
        ]

    def slash(
        self, client: discord.Client, uid: int, name: str, options: list | None = None, **extra
    ) -> None:
        """A member runs a slash command in the server channel (or ``channel_id=`` a DM)."""
        self._did(uid, f"/{name}" + "".join(f" {o['name']}:{o['value']}" for o in options or []))
        data = {"id": str(self.snowflake()), "name": name, "type": 1, "options": options or []}
        if "resolved" in extra:
            data["resolved"] = extra.pop("resolved")
        payload = self._interaction(2, uid, data, channel_id=extra.pop("channel_id", None), **extra)
        client._connection.parse_interaction_create(payload)

    def click(
        self, client: discord.Client, uid: int, message_id: int, custom_id: str, **member: Any
    ) -> None:
        """Press a button on a message the bot sent (its components come with the event)."""
        msg = self.messages[message_id]
        label = next(
            (
                c.get("label", "")
                for row in msg["components"]
                for c in row["components"]
                if c.get("custom_id") == custom_id
            ),
            custom_id,
        )
        self._did(uid, f"presses [{label}]")
        payload = self._interaction(
            3,
            uid,
            {"custom_id": custom_id, "component_type": 2},
            channel_id=int(msg["channel_id"]),
            message=msg,
            **member,
        )
        client._connection.parse_interaction_create(payload)

    def pick(self, client: discord.Client, uid: int, message_id: int, value: str) -> None:
        """Choose an option of the select menu on a message."""
        msg = self.messages[message_id]
        menu = next(
            c
            for row in msg["components"]
            for c in row["components"]
            if c["type"] == 3 and any(o["value"] == value for o in c["options"])
        )
        label = next(o["label"] for o in menu["options"] if o["value"] == value)
        self._did(uid, f"picks «{label}» from the menu")
        payload = self._interaction(
            3,
            uid,
            {"custom_id": menu["custom_id"], "component_type": 3, "values": [value]},
            channel_id=int(msg["channel_id"]),
            message=msg,
        )
        client._connection.parse_interaction_create(payload)

    def submit(
        self, client: discord.Client, uid: int, message_id: int, modal_id: str, text: str
    ) -> None:
        """Submit a modal opened from a message's button."""
        msg = self.messages[message_id]
        self._did(uid, f"types “{text}” in the modal and submits")
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": "answer", "value": text}]}]
        payload = self._interaction(
            5,
            uid,
            {"custom_id": modal_id, "components": rows},
            channel_id=int(msg["channel_id"]),
            message=msg,
        )
        client._connection.parse_interaction_create(payload)

    def dm(
        self,
        client: discord.Client,
        uid: int,
        content: str = "",
        files: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
        channel_id: int | None = None,
    ) -> None:
        """The member writes in their DM with the bot (files: name, bytes, content type),
        or in a server channel or thread when ``channel_id`` is given."""
        cid = channel_id or self.dm_of.setdefault(uid, self.snowflake())
        sent = [content] if content else []
        sent += [f"{name} ({len(data) // 1024} KiB, {ctype or '?'})" for name, data, ctype in files]
        self._did(uid, "sends " + ", ".join(sent))
        attachments = []
        for name, data, ctype in files:
            att = self._attachments([(name, data, "")])[0]
            if ctype:
                att["content_type"] = ctype
            attachments.append(att)
        msg = self._message(cid, self.users[uid], content, attachments=attachments)
        if channel_id is not None:  # a server message carries its guild and member
            msg["guild_id"] = str(GUILD_ID)
            msg["member"] = {k: v for k, v in self._member(uid, "0", []).items() if k != "user"}
        client._connection.parse_message_create(msg)

    def _did(self, uid: int, what: str) -> None:
        self.log.append(Sent("user", content=f"{self.users[uid]['global_name']} {what}"))

    def share(self, message_id: int) -> int:
        """A copy of a bot message in the server channel (a result someone shared there)."""
        msg = self.messages[message_id]
        copy = self._message(
            CHANNEL_ID, self.bot, msg["content"], msg["components"], msg["attachments"]
        )
        return int(copy["id"])

    # --- waiting and reading -----------------------------------------------------------------
    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until discord.py's dispatched handlers (events, commands, items) are done."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        me = asyncio.current_task()
        while True:
            await asyncio.sleep(0)
            busy = [
                t
                for t in asyncio.all_tasks()
                if t is not me
                and not t.done()
                and t.get_name().startswith(("discord", "CommandTree"))
            ]
            if not busy:
                return
            if loop.time() > deadline:
                raise TimeoutError(f"handlers still running: {[t.get_name() for t in busy]}")
            await asyncio.wait(busy, timeout=deadline - loop.time())

    async def wait_for(self, predicate, timeout: float = 30.0) -> Sent:
        """Wait for something the bot sends on its own (progress, results)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for s in reversed(self.log):
                if predicate(s):
                    return s
            await asyncio.sleep(0.05)
        raise TimeoutError("the bot did not send what the test waited for:\n" + self.transcript())

    def last(self, kind: str = "message") -> Sent:
        return next(s for s in reversed(self.log) if s.kind == kind)

    def sent(self, message_id: int) -> Sent:
        """What the bot sent as this message (first version)."""
        return next(s for s in self.log if s.kind == "message" and s.message_id == message_id)

    def bot_messages(self, start: int = 0) -> list[Sent]:
        return [s for s in self.log[start:] if s.kind == "message"]

    def since(self, n: int) -> list[Sent]:
        return self.log[n:]

    def transcript(self, start: int = 0) -> str:
        """What was said and done, one entry per action (for the closing note)."""
        lines = []
        for s in self.log[start:]:
            if s.kind in ("typing", "dm_open"):
                continue
            if s.kind == "user":
                lines.append(f"> {s.content}")
                continue
            if s.kind == "thread":
                lines.append(f"bot opens a private thread «{s.content}» and adds the member")
                continue
            if s.kind == "callback":
                kind = {4: "message", 5: "thinking…", 6: "deferred", 9: "opens a modal"}.get(
                    s.callback_type, str(s.callback_type)
                )
                lines.append(f"  (ack: {kind}{', ephemeral' if s.ephemeral else ''})")
                continue
            who = {"followup": "bot follow-up", "edit": "bot edits"}.get(s.kind, "bot")
            if s.ephemeral:
                who += " (only you can see this)"
            text = s.content.replace("\n", "\n    ")
            extra = ""
            if s.files:
                extra += "\n    files: " + ", ".join(
                    f"{n} ({len(d) // 1024} KiB)" for n, d, _ in s.files
                )
            for row in s.components:
                comps = row.get("components", [])
                if comps and comps[0].get("type") == 3:
                    extra += "\n    menu: " + " | ".join(o["label"] for o in comps[0]["options"])
                elif comps:
                    extra += "\n    buttons: " + " ".join(f"[{c.get('label', '')}]" for c in comps)
            lines.append(f"{who}: {text}{extra}")
        return "\n".join(lines)


def install_webhook_fake(monkeypatch: Any, fake: FakeDiscord) -> None:
    """Route discord.py's interaction webhook requests to ``fake`` for this test."""

    async def request(self: AsyncWebhookAdapter, route: Any, session: Any, **kw: Any) -> Any:
        return await fake._webhook(route, session, **kw)

    monkeypatch.setattr(AsyncWebhookAdapter, "request", request)
