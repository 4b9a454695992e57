"""A Telegram Bot API server emulated on 127.0.0.1, for end-to-end tests of the bot.

The real python-telegram-bot client talks to it over HTTP exactly as it would
to api.telegram.org (``base_url="{url}/bot"``, ``base_file_url="{url}/file/bot"``).
It keeps what a real server keeps (chats, messages, files, pending updates with
offsets), records every call the bot makes, and lets a test act as the users:
send text, photos, albums and documents, press buttons. It can also answer the
next call of a method with ``429 Too Many Requests`` to test flood control.

Only the methods the bot uses are implemented; any other answers 404 and is
recorded, so a test sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from PIL import Image

BOT_ID = 7_000_000_001
BOT_USERNAME = "sitter_test_bot"
PUBLIC_DOWNLOAD_LIMIT = 20 * 1024 * 1024


@dataclass
class Call:
    """One request the bot made, as the server understood it."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]]  # multipart part name -> (filename, bytes)
    result: Any = None
    error: str = ""
    at: float = field(default_factory=time.monotonic)


@dataclass
class StoredFile:
    file_id: str
    unique_id: str
    data: bytes
    path: str
    size: int  # what the server reports (may be larger than data for limit tests)


@dataclass(frozen=True)
class TgUser:
    id: int
    first_name: str
    username: str = ""
    language_code: str = ""  # the client's language ("ru"), as Telegram sends it

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            d["username"] = self.username
        if self.language_code:
            d["language_code"] = self.language_code
        return d


# Fields whose form values are JSON objects/arrays/numbers rather than plain strings.
_JSON_FIELDS = {
    "reply_markup",
    "media",
    "commands",
    "offset",
    "limit",
    "timeout",
    "allowed_updates",
    "message_id",
    "disable_notification",
    "show_alert",
    "cache_time",
    "link_preview_options",
    "reply_parameters",
    "scope",
}


class BotApiEmulator:
    """The fake server. ``await start()`` it, point the bot at ``url``, ``await stop()``."""

    def __init__(self, token: str = "123456:TEST-token") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.events: list[dict[str, Any]] = []  # user actions and bot sends, in order
        self.url = ""
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._files: dict[str, StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._callback_seq = itertools.count(1)
        self._answered: set[str] = set()
        self._query_chats: dict[str, int] = {}
        self._failures: dict[str, list[int]] = {}
        self._errors: dict[str, list[tuple[int, str]]] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._chats: dict[int, dict[str, Any]] = {}
        self._closing = False
        self.delay_s = 0.0  # artificial latency per call, for benchmarks

    # --- lifecycle ------------------------------------------------------------------
    async def start(self, port: int = 0) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self._closing = True
        await self._notify()  # let long polls return at once
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- what the test does as users ------------------------------------------------
    def fail_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 and ``retry_after``."""
        self._failures.setdefault(method, []).extend([retry_after] * times)

    def error_next(self, method: str, code: int, description: str, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with this error (403, 400, 502...)."""
        self._errors.setdefault(method, []).extend([(code, description)] * times)

    def private_chat(self, user: TgUser) -> dict[str, Any]:
        chat = {"id": user.id, "type": "private", "first_name": user.first_name}
        self._chats[user.id] = chat
        return chat

    def group_chat(self, chat_id: int, title: str = "Fans") -> dict[str, Any]:
        chat = {"id": chat_id, "type": "supergroup", "title": title}
        self._chats[chat_id] = chat
        return chat

    async def send_text(
        self,
        user: TgUser,
        text: str,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> int:
        """A text message (``reply_to``: a message it answers, e.g. ``/report``)."""
        msg = self._user_message(user, chat)
        msg["text"] = text
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        if text.startswith("/"):
            cmd = text.split()[0]
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(cmd)}]
        return await self._push({"message": msg}, f"{user.first_name}: {text}")

    async def send_photo(
        self,
        user: TgUser,
        data: bytes,
        *,
        media_group_id: str | None = None,
        chat: dict[str, Any] | None = None,
        caption: str = "",
    ) -> int:
        """A photo as Telegram delivers it: several sizes, the biggest the original bytes."""
        msg = self._user_message(user, chat)
        msg["photo"] = self._photo_sizes(data)
        if media_group_id:
            msg["media_group_id"] = media_group_id
        if caption:
            msg["caption"] = caption
        label = f"photo ({len(data)} bytes)" + (
            f" in album {media_group_id}" if media_group_id else ""
        )
        return await self._push({"message": msg}, f"{user.first_name}: [{label}]")

    async def send_album(self, user: TgUser, photos: Iterable[bytes], group_id: str) -> list[int]:
        return [await self.send_photo(user, p, media_group_id=group_id) for p in photos]

    async def send_document(
        self,
        user: TgUser,
        data: bytes,
        filename: str,
        mime: str,
        *,
        declared_size: int | None = None,
        chat: dict[str, Any] | None = None,
    ) -> int:
        msg = self._user_message(user, chat)
        f = self._store_file(data, filename.rsplit(".", 1)[-1], declared_size)
        msg["document"] = {
            "file_id": f.file_id,
            "file_unique_id": f.unique_id,
            "file_name": filename,
            "mime_type": mime,
            "file_size": f.size,
        }
        return await self._push(
            {"message": msg}, f"{user.first_name}: [document {filename}, {f.size} bytes]"
        )

    async def send_other(self, user: TgUser, kind: str, payload: dict[str, Any]) -> int:
        """Any other message kind (``sticker``, ``video``, ``voice``...) with its payload."""
        msg = self._user_message(user, None)
        msg[kind] = payload
        return await self._push({"message": msg}, f"{user.first_name}: [{kind}]")

    async def press(self, user: TgUser, message: dict[str, Any], data: str) -> str:
        """Press a button with ``data`` on ``message`` (any data: stale or foreign too)."""
        qid = f"cq{next(self._callback_seq)}"
        self._query_chats[qid] = message["chat"]["id"]
        label = data
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for b in row:
                if b.get("callback_data") == data:
                    label = b["text"]
        update = {
            "callback_query": {
                "id": qid,
                "from": user.as_dict(),
                "message": message,
                "chat_instance": f"ci{message['chat']['id']}",
                "data": data,
            }
        }
        await self._push(update, f"{user.first_name}: presses [{label}]")
        return qid

    async def press_button(self, user: TgUser, label: str, chat_id: int | None = None) -> str:
        """Press the newest button in the chat whose text contains ``label``."""
        message, data = self.find_button(chat_id or user.id, label)
        return await self.press(user, message, data)

    def find_button(self, chat_id: int, label: str) -> tuple[dict[str, Any], str]:
        for (cid, _mid), msg in sorted(self._messages.items(), key=lambda kv: -kv[0][1]):
            if cid != chat_id:
                continue
            for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []):
                for b in row:
                    if label.lower() in b["text"].lower():
                        return msg, b["callback_data"]
        raise LookupError(
            f"no button with {label!r} in chat {chat_id}; buttons: {self.buttons(chat_id)}"
        )

    def buttons(self, chat_id: int) -> list[str]:
        out = []
        for (cid, _), msg in sorted(self._messages.items()):
            if cid == chat_id:
                for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []):
                    out.extend(b["text"] for b in row)
        return out

    # --- what the test reads ----------------------------------------------------------
    def sent(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        """Successful calls (optionally of one method, to one chat)."""
        return [
            c
            for c in self.calls
            if not c.error
            and (method is None or c.method == method)
            and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
        ]

    def texts(self, chat_id: int) -> list[str]:
        """Every text the chat shows, in order of sending (edits appended as they happen)."""
        out = []
        for c in self.sent(chat_id=chat_id):
            if c.method in ("sendMessage", "editMessageText"):
                out.append(c.params["text"])
            elif c.method in ("sendPhoto", "sendDocument") and c.params.get("caption"):
                out.append(c.params["caption"])
        return out

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        return self._messages[(chat_id, message_id)]

    def last_message(self, chat_id: int) -> dict[str, Any]:
        mid = max(m for c, m in self._messages if c == chat_id)
        return self._messages[(chat_id, mid)]

    def answered(self, query_id: str) -> bool:
        return query_id in self._answered

    def pending_updates(self) -> int:
        return len(self._updates)

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = ""
    ) -> Any:
        """Wait until ``predicate()`` is truthy (checked after every call); return its value."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"timed out after {timeout} s waiting for {what or predicate}\n"
                        + self.transcript()[-3000:]
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), left)

    async def wait_calls(
        self, method: str, count: int, chat_id: int | None = None, timeout: float = 10.0
    ) -> list[Call]:
        return await self.wait_for(
            lambda: (found := self.sent(method, chat_id)) and len(found) >= count and found,
            timeout,
            f"{count} x {method}",
        )

    def transcript(self) -> str:
        """The conversation as a person would read it (user lines and bot lines)."""
        return "\n".join(self._render_event(e) for e in self.events)

    # --- internals: updates -------------------------------------------------------------
    def _user_message(self, user: TgUser, chat: dict[str, Any] | None) -> dict[str, Any]:
        chat = chat or self._chats.get(user.id) or self.private_chat(user)
        mid = self._next_message_id(chat["id"])
        msg = {"message_id": mid, "date": int(time.time()), "chat": chat, "from": user.as_dict()}
        self._messages[(chat["id"], mid)] = msg
        return msg

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    async def _push(self, update: dict[str, Any], line: str) -> int:
        update["update_id"] = next(self._update_ids)
        self._updates.append(update)
        chat = (update.get("message") or update.get("callback_query", {}).get("message", {})).get(
            "chat", {}
        )
        self.events.append({"kind": "user", "chat": chat.get("id"), "line": line})
        async with self._changed:
            self._changed.notify_all()
        return update.get("message", {}).get("message_id", 0)

    def _store_file(self, data: bytes, ext: str, declared_size: int | None = None) -> StoredFile:
        n = next(self._file_seq)
        f = StoredFile(
            file_id=f"FILE{n:06d}",
            unique_id=f"U{n:06d}",
            data=data,
            path=f"files/file_{n}.{ext or 'bin'}",
            size=declared_size if declared_size is not None else len(data),
        )
        self._files[f.file_id] = f
        return f

    def _photo_sizes(self, data: bytes) -> list[dict[str, Any]]:
        """Smaller JPEG copies plus the original, smallest first (Telegram's order)."""
        img = Image.open(io.BytesIO(data))
        img.load()
        sizes = []
        for side in (90, 320):
            if max(img.size) > side:
                small = img.convert("RGB")
                small.thumbnail((side, side))
                buf = io.BytesIO()
                small.save(buf, "JPEG", quality=80)
                f = self._store_file(buf.getvalue(), "jpg")
                sizes.append(
                    {
                        "file_id": f.file_id,
                        "file_unique_id": f.unique_id,
                        "width": small.width,
                        "height": small.height,
                        "file_size": f.size,
                    }
                )
        f = self._store_file(data, "jpg")
        sizes.append(
            {
                "file_id": f.file_id,
                "file_unique_id": f.unique_id,
                "width": img.width,
                "height": img.height,
                "file_size": f.size,
            }
        )
        return sizes

    # --- internals: HTTP ------------------------------------------------------------------
    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        path = request.match_info["path"]
        for f in self._files.values():
            if f.path == path:
                self.calls.append(Call("download", {"file_path": path}, {}, result=len(f.data)))
                return web.Response(body=f.data, content_type="application/octet-stream")
        return web.Response(status=404, text="Not Found")

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}
            )
        params, files = await self._read_params(request)
        call = Call(method, params, files)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        pending = self._failures.get(method)
        if pending:
            retry_after = pending.pop(0)
            call.error = f"429 retry after {retry_after}"
            self.calls.append(call)
            await self._notify()
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                },
                status=429,
            )
        errors = self._errors.get(method)
        if errors:
            code, description = errors.pop(0)
            call.error = f"{code} {description}"
            self.calls.append(call)
            await self._notify()
            return web.json_response(
                {"ok": False, "error_code": code, "description": description}, status=code
            )
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            call.error = "404 method not found"
            self.calls.append(call)
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        try:
            if method == "getUpdates":
                result = await handler(params)
            else:
                result = handler(params, files)
        except ApiError as exc:
            call.error = str(exc)
            self.calls.append(call)
            await self._notify()
            return web.json_response(
                {"ok": False, "error_code": exc.code, "description": str(exc)}, status=exc.code
            )
        call.result = result
        if method != "getUpdates" or result:
            self.calls.append(call)
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
        params: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "application/json":
            params = await request.json()
            return params, files
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = (value.filename or key, value.file.read())
            elif key in _JSON_FIELDS:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
            else:
                params[key] = value
        return params, files

    def _file_param(
        self, value: Any, files: dict[str, tuple[str, bytes]], name: str
    ) -> tuple[str, bytes] | None:
        if isinstance(value, str) and value.startswith("attach://"):
            return files[value.removeprefix("attach://")]
        if name in files:
            return files[name]
        if isinstance(value, str) and value in self._files:
            return (value, self._files[value].data)
        return None

    # --- methods ---------------------------------------------------------------------------
    def _bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Sitter", "username": BOT_USERNAME}

    def _m_getMe(self, params: dict, files: dict) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_deleteWebhook(self, params: dict, files: dict) -> bool:
        return True

    def _m_setMyCommands(self, params: dict, files: dict) -> bool:
        return True

    def _m_sendChatAction(self, params: dict, files: dict) -> bool:
        return True

    def _m_close(self, params: dict, files: dict) -> bool:
        return True

    async def _m_getUpdates(self, params: dict) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + min(timeout, 30)
        async with self._changed:
            while not self._updates and not self._closing:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    break
        return self._updates[:limit]

    def _chat(self, params: dict) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _bot_message(self, params: dict, **content: Any) -> dict[str, Any]:
        chat = self._chat(params)
        mid = self._next_message_id(chat["id"])
        msg: dict[str, Any] = {
            "message_id": mid,
            "date": int(time.time()),
            "chat": chat,
            "from": self._bot_user(),
            **content,
        }
        if params.get("reply_markup"):
            msg["reply_markup"] = self._check_markup(params["reply_markup"])
        self._messages[(chat["id"], mid)] = msg
        return msg

    def _check_markup(self, markup: dict[str, Any]) -> dict[str, Any]:
        for row in markup.get("inline_keyboard", []):
            for b in row:
                data = b.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _log_bot(self, chat_id: int, line: str, **extra: Any) -> None:
        self.events.append({"kind": "bot", "chat": chat_id, "line": line, **extra})

    def _m_sendMessage(self, params: dict, files: dict) -> dict[str, Any]:
        text = params.get("text", "")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        msg = self._bot_message(params, text=text)
        self._log_bot(
            msg["chat"]["id"], text, markup=msg.get("reply_markup"), mid=msg["message_id"]
        )
        return msg

    def _m_editMessageText(self, params: dict, files: dict) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        msg = self._messages.get(key)
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if msg.get("text") == params["text"] and msg.get("reply_markup") == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        msg["text"] = params["text"]
        if markup:
            msg["reply_markup"] = self._check_markup(markup)
        else:
            msg.pop("reply_markup", None)
        msg["edit_date"] = int(time.time())
        self._log_bot(key[0], params["text"], markup=markup, mid=key[1], edit=True)
        return msg

    def _m_editMessageReplyMarkup(self, params: dict, files: dict) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        msg = self._messages.get(key)
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if markup:
            msg["reply_markup"] = self._check_markup(markup)
        else:
            msg.pop("reply_markup", None)
        self._log_bot(key[0], "(buttons changed)", markup=markup, mid=key[1], edit=True)
        return msg

    def _m_deleteMessage(self, params: dict, files: dict) -> bool:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if self._messages.pop(key, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        self._log_bot(key[0], f"(deleted message {key[1]})")
        return True

    def _m_answerCallbackQuery(self, params: dict, files: dict) -> bool:
        qid = params["callback_query_id"]
        if qid in self._answered:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        self._answered.add(qid)
        if params.get("text"):
            # The popup/toast shows to whoever pressed, over the chat the button is in.
            self._log_bot(self._query_chats.get(qid, 0), f"(popup) {params['text']}")
        return True

    def _media_payload(
        self, name: str, data: bytes, kind: str
    ) -> dict[str, Any] | list[dict[str, Any]]:
        f = self._store_file(data, name.rsplit(".", 1)[-1] if "." in name else "bin")
        if kind == "photo":
            img = Image.open(io.BytesIO(data))
            return [
                {
                    "file_id": f.file_id,
                    "file_unique_id": f.unique_id,
                    "width": img.width,
                    "height": img.height,
                    "file_size": f.size,
                }
            ]
        return {
            "file_id": f.file_id,
            "file_unique_id": f.unique_id,
            "file_name": name,
            "file_size": f.size,
        }

    def _m_sendPhoto(self, params: dict, files: dict) -> dict[str, Any]:
        found = self._file_param(params.get("photo"), files, "photo")
        if found is None:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        name, data = found
        if len(data) > 10 * 1024 * 1024:
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        caption = params.get("caption", "")
        msg = self._bot_message(
            params, photo=self._media_payload(name, data, "photo"), caption=caption
        )
        self._log_bot(
            msg["chat"]["id"],
            f"[photo {name}] {caption}".strip(),
            markup=msg.get("reply_markup"),
            mid=msg["message_id"],
        )
        return msg

    def _m_sendDocument(self, params: dict, files: dict) -> dict[str, Any]:
        found = self._file_param(params.get("document"), files, "document")
        if found is None:
            raise ApiError(400, "Bad Request: there is no document in the request")
        name, data = found
        caption = params.get("caption", "")
        if len(caption) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        msg = self._bot_message(
            params, document=self._media_payload(name, data, "document"), caption=caption
        )
        self._log_bot(
            msg["chat"]["id"],
            f"[file {name}, {len(data)} bytes] {caption}".strip(),
            markup=msg.get("reply_markup"),
            mid=msg["message_id"],
        )
        return msg

    def _m_sendMediaGroup(self, params: dict, files: dict) -> list[dict[str, Any]]:
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media in the album (2-10)")
        out = []
        names = []
        for item in media:
            found = self._file_param(item.get("media"), files, "")
            if found is None:
                raise ApiError(400, f"Bad Request: can't find the file {item.get('media')!r}")
            name, data = found
            kind = item.get("type", "photo")
            content = {kind: self._media_payload(name, data, kind)}
            msg = self._bot_message(
                params, **content, caption=item.get("caption", ""), media_group_id="bot-album"
            )
            out.append(msg)
            names.append(f"{name}" + (f" ({item['caption']})" if item.get("caption") else ""))
        self._log_bot(out[0]["chat"]["id"], f"[album of {len(out)}: " + ", ".join(names) + "]")
        return out

    def _m_getFile(self, params: dict, files: dict) -> dict[str, Any]:
        f = self._files.get(params.get("file_id", ""))
        if f is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if f.size > PUBLIC_DOWNLOAD_LIMIT:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": f.file_id,
            "file_unique_id": f.unique_id,
            "file_size": f.size,
            "file_path": f.path,
        }

    # --- transcript ------------------------------------------------------------------------
    def _render_event(self, e: dict[str, Any]) -> str:
        if e["kind"] == "user":
            return f"> {e['line']}"
        prefix = "bot (edits message)" if e.get("edit") else "bot"
        lines = [f"{prefix}: " + e["line"].replace("\n", "\n    ")]
        markup = e.get("markup") or {}
        for row in markup.get("inline_keyboard", []):
            lines.append("    " + "  ".join(f"[{b['text']}]" for b in row))
        return "\n".join(lines)


class ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
