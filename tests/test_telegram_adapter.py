"""The Telegram adapter's own duties, through the real PTB Application and the emulator.

The studio here is a small recorder that answers with fixed replies: these tests
pin what the adapter does with updates and replies (albums, size limits, groups,
keyboards, popups, flood control), whatever the core decides. The whole studio
over Telegram is in test_telegram_studio.py.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image as PILImage
from telegram_api import BOT_USERNAME, BotApiEmulator, TgUser

from bot.studio.core.events import (
    Button,
    Command,
    Event,
    Files,
    Image,
    Press,
    Recipient,
    Reply,
    Text,
)
from bot.telegram.app import TelegramAdapter
from bot.telegram.render import ButtonDataTooLong, keyboard, split_text
from bot.telegram.settings import TelegramSettings
from sitter.config import Settings

ANNA = TgUser(1001, "Anna", "anna")
BORIS = TgUser(1002, "Boris")


def jpeg(w: int = 400, h: int = 300, color: tuple[int, int, int] = (200, 120, 80)) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (w, h), color).save(buf, "JPEG")
    return buf.getvalue()


class Recorder:
    """Answers every event with a reply naming it; presses on 'old:' data are stale."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.outboxes: dict[str, object] = {}
        self.next_replies: list[Reply] | None = None

    def add_outbox(self, platform: str, outbox: object) -> None:
        self.outboxes[platform] = outbox

    def add_invite_link(self, platform: str, link: object) -> None:
        self.links = {platform: link}

    async def handle(self, event: Event) -> list[Reply]:
        self.events.append(event)
        if self.next_replies is not None:
            replies, self.next_replies = self.next_replies, None
            return replies
        match event:
            case Command(name=name, args=args):
                return [Reply(f"command {name} {args}".strip())]
            case Text(text=text):
                return [Reply(f"text {text}")]
            case Files(files=files):
                lines = [
                    f"{f.filename}: {'ok ' + str(len(f.data)) if f.data else f.error}"
                    for f in files
                ]
                return [Reply("\n".join(lines))]
            case Press(data=data) if data.startswith("old:"):
                return [Reply("That button is from an earlier step; use the newest message.")]
            case Press(data=data):
                return [Reply(f"pressed {data}", buttons=((Button("Again", "again"),),))]
        return []


@pytest.fixture
async def api() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


def settings_for(api: BotApiEmulator, data_dir: Path, **extra: object) -> Settings:
    return Settings(data_dir=data_dir, **extra)  # type: ignore[arg-type]


def telegram_for(api: BotApiEmulator, **extra: object) -> TelegramSettings:
    """The adapter's own settings: the emulator's token and URL."""
    return TelegramSettings(token=api.token, api_url=api.url, **extra)  # type: ignore[arg-type]


@pytest.fixture
async def bot(
    api: BotApiEmulator, data_dir: Path
) -> AsyncIterator[tuple[TelegramAdapter, Recorder]]:
    studio = Recorder()
    adapter = TelegramAdapter(
        studio,
        settings_for(api, data_dir),
        album_window_s=0.3,
        poll_timeout_s=1,
        telegram=telegram_for(api, moderation_chat=-500),
    )
    await adapter.start()
    yield adapter, studio
    await adapter.stop()


async def test_start_command_reaches_the_core_and_the_answer_comes_back(api, bot):
    adapter, studio = bot
    await api.send_text(ANNA, "/start portrait")
    [call] = await api.wait_calls("sendMessage", 1, ANNA.id)
    assert call.params["text"] == "command start portrait"
    ev = studio.events[0]
    assert isinstance(ev, Command) and ev.who.user_id == "1001" and ev.who.private
    assert ev.who.name == "Anna"
    menus = [c for c in api.calls if c.method == "setMyCommands"]  # English, then each language
    assert [c.method for c in api.calls[: 1 + len(menus) + 1]] == [
        "getMe", *["setMyCommands"] * len(menus), "deleteWebhook"
    ]  # fmt: skip
    assert [c.params.get("language_code") for c in menus] == [None, "ar", "es", "pt", "ru"]
    assert ev.who.locale == ""  # this client sent no language_code
    assert studio.outboxes["telegram"] is adapter.outbox


async def test_photo_uses_the_largest_size(api, bot):
    _, studio = bot
    photo = jpeg(1000, 800)
    await api.send_photo(ANNA, photo)
    [call] = await api.wait_calls("sendMessage", 1, ANNA.id)
    assert f"ok {len(photo)}" in call.params["text"]
    [f] = studio.events[0].files
    assert f.data == photo and f.mime == "image/jpeg"
    assert [c.method for c in api.sent("sendChatAction")]  # 'typing' while it is checked


async def test_album_is_one_event_answered_once(api, bot):
    _, studio = bot
    photos = [jpeg(300 + i, 300, (i * 40, 80, 80)) for i in range(4)]
    await api.send_album(ANNA, photos, "album-1")
    [call] = await api.wait_calls("sendMessage", 1, ANNA.id)
    assert len(call.params["text"].splitlines()) == 4
    [ev] = [e for e in studio.events if isinstance(e, Files)]
    assert [f.data for f in ev.files] == photos  # in the order the user sent them
    assert [f.filename for f in ev.files] == ["photo 1", "photo 2", "photo 3", "photo 4"]


async def test_an_album_still_collecting_when_the_bot_stops_is_not_lost(api, data_dir):
    studio = Recorder()
    adapter = TelegramAdapter(
        studio,
        settings_for(api, data_dir),
        album_window_s=30,
        poll_timeout_s=1,
        telegram=telegram_for(api),
    )
    await adapter.start()
    await api.send_album(ANNA, [jpeg(), jpeg(310, 300)], "album-stop")
    await api.wait_for(lambda: len(api.sent("download")) == 2, what="both parts fetched")
    await adapter.stop()  # long before the 30 s album window is over
    [files] = [e for e in studio.events if isinstance(e, Files)]
    assert len(files.files) == 2
    assert len(api.sent("sendMessage", ANNA.id)) == 1  # and it was answered


async def test_document_heic_and_non_image_and_too_big(api, bot):
    _, studio = bot
    await api.send_document(
        ANNA, b"\x00\x00\x00\x18ftypheic" + b"0" * 100, "IMG_0001.HEIC", "image/heic"
    )
    await api.wait_calls("sendMessage", 1, ANNA.id)
    await api.send_document(ANNA, b"%PDF-1.4 hello", "cv.pdf", "application/pdf")
    await api.wait_calls("sendMessage", 2, ANNA.id)
    downloads_before = len(api.sent("getFile"))
    await api.send_document(ANNA, jpeg(), "huge.jpg", "image/jpeg", declared_size=25 * 1024 * 1024)
    await api.wait_calls("sendMessage", 3, ANNA.id)
    files = [e.files[0] for e in studio.events if isinstance(e, Files)]
    assert files[0].data is not None and files[0].filename == "IMG_0001.HEIC"
    assert files[1].data is None and "not an image (application/pdf)" in files[1].error
    assert files[2].data is None and "20 MB" in files[2].error and "25 MB" in files[2].error
    assert len(api.sent("getFile")) == downloads_before  # neither was downloaded


async def test_self_hosted_api_lifts_the_download_limit(api, data_dir):
    big = settings_for(api, data_dir, max_upload_bytes=50 * 2**20)
    adapter = TelegramAdapter(Recorder(), big, telegram=telegram_for(api))
    assert adapter.limit == 50 * 2**20  # the emulator's URL is not api.telegram.org
    public = TelegramAdapter(Recorder(), big, telegram=TelegramSettings(token="1:x"))
    assert public.limit == 20 * 2**20 and "Telegram's 20 MB" in public.limit_words


async def test_video_gets_an_answer_without_download(api, bot):
    _, _studio = bot
    await api.send_other(ANNA, "video", {"file_id": "V1", "file_unique_id": "v1", "width": 1,
                                         "height": 1, "duration": 3, "file_size": 10})  # fmt: skip
    [call] = await api.wait_calls("sendMessage", 1, ANNA.id)
    assert "a video, not a photo" in call.params["text"]
    assert not api.sent("getFile")


async def test_group_gets_a_pointer_and_photos_are_ignored(api, bot):
    _, studio = bot
    group = api.group_chat(-100200, "Fans")
    await api.send_photo(ANNA, jpeg(), chat=group)
    await api.send_text(ANNA, "/start", chat=group)
    await api.send_text(ANNA, "/other@some_other_bot", chat=group)
    await api.send_text(ANNA, f"/status@{BOT_USERNAME}", chat=group)
    calls = await api.wait_calls("sendMessage", 2, group["id"])
    for c in calls:
        assert f"https://t.me/{BOT_USERNAME}?start=portrait" in c.params["text"]
    assert studio.events == []  # nothing from the group reached the studio
    assert not api.sent("getFile")


async def test_moderation_chat_commands_go_to_the_core(api, bot):
    _, studio = bot
    mods = api.group_chat(-500, "Moderators")
    await api.send_text(BORIS, "/report 12", chat=mods)
    [call] = await api.wait_calls("sendMessage", 1, -500)
    assert call.params["text"] == "command report 12"
    assert studio.events[0].who.private is False


async def test_every_press_is_answered_in_chat_or_as_a_popup_in_groups(api, bot):
    _adapter, studio = bot
    studio.next_replies = [
        Reply("Pick one", buttons=((Button("Yes", "w:1:yes"), Button("No", "w:1:no")),))
    ]
    await api.send_text(ANNA, "hi")
    await api.wait_calls("sendMessage", 1, ANNA.id)
    q1 = await api.press_button(ANNA, "Yes")
    await api.wait_calls("sendMessage", 2, ANNA.id)
    await api.wait_for(lambda: api.answered(q1), what="answer to the press")
    msg, _ = api.find_button(ANNA.id, "Yes")
    press = next(e for e in studio.events if isinstance(e, Press))
    assert press.data == "w:1:yes" and press.message_id == str(msg["message_id"])
    assert press.who.private

    # The same kind of button in a group (a message someone shared): only the presser sees
    # the core's answer, as a popup; nothing is posted in the group.
    group = api.group_chat(-100300, "Friends")
    await studio.outboxes["telegram"].send(
        Recipient("telegram", str(group["id"])),
        Reply("Shared", buttons=((Button("Upscale", "old:u:1"),),)),
    )
    q2 = await api.press_button(BORIS, "Upscale", chat_id=group["id"])
    await api.wait_for(lambda: api.answered(q2), what="answer to the group press")
    [popup] = [c for c in api.sent("answerCallbackQuery") if c.params["callback_query_id"] == q2]
    assert "earlier step" in popup.params["text"] and popup.params["show_alert"] is True
    assert len(api.sent("sendMessage", group["id"])) == 1  # only the shared message itself
    assert not [e for e in studio.events if isinstance(e, Press)][-1].who.private


async def test_report_as_a_reply_names_the_portraits_of_that_message(api, bot):
    _, studio = bot
    studio.next_replies = [
        Reply(
            "Your portraits",
            buttons=(
                (Button("Upscale 1", "u:5"), Button("Upscale 2", "u:6")),
                (Button("Report 1", "rep:5"), Button("Report 2", "rep:6")),
            ),
        )
    ]
    await api.send_text(ANNA, "go")
    await api.wait_calls("sendMessage", 1, ANNA.id)
    results = api.last_message(ANNA.id)
    await api.send_text(ANNA, "/report not_me it's my face", reply_to=results)
    await api.wait_calls("sendMessage", 2, ANNA.id)
    report = [e for e in studio.events if isinstance(e, Command)][-1]
    assert report.name == "report" and report.args == "rep:5 rep:6 not_me it's my face"


async def test_results_album_then_actions_and_files_with_reason(api, bot, tmp_path):
    _adapter, studio = bot
    paths = []
    for i in range(4):
        p = tmp_path / f"v{i + 1}.png"
        PILImage.new("RGB", (64, 64), (i * 50, 10, 10)).save(p)
        paths.append(p)
    studio.next_replies = [
        Reply(
            "Your four portraits",
            images=tuple(Image(p, caption=f"#{n + 1}") for n, p in enumerate(paths)),
            buttons=((Button("Retry", "r:1"),), (Button("Upscale 1", "u:1:1"),)),
        ),
        Reply("Upscaled #1", images=(Image(paths[0], caption="#1, 4x", as_file=True),)),
    ]
    await api.send_text(ANNA, "go")
    [album] = await api.wait_calls("sendMediaGroup", 1, ANNA.id)
    assert len(album.params["media"]) == 4 and len(album.files) == 4
    assert [m["caption"] for m in album.params["media"]] == ["#1", "#2", "#3", "#4"]
    [actions] = await api.wait_calls("sendMessage", 1, ANNA.id)
    assert actions.params["text"] == "Your four portraits"
    rows = actions.params["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in r] for r in rows] == [["r:1"], ["u:1:1"]]
    [doc] = await api.wait_calls("sendDocument", 1, ANNA.id)
    assert "metadata" in doc.params["caption"] and doc.params["caption"].startswith("Upscaled #1")
    assert next(iter(doc.files.values()))[1] == paths[0].read_bytes()  # the bytes, untouched


async def test_progress_message_is_edited_in_place(api, bot, tmp_path):
    adapter, studio = bot

    class Ids:
        def __init__(self) -> None:
            self.rows: dict[tuple[str, str], dict[str, str]] = {}

        async def remember_message(self, platform, key, chat_id, message_id):
            self.rows[(platform, key)] = {"chat_id": chat_id, "message_id": message_id}

        async def message(self, platform, key):
            return self.rows.get((platform, key))

    adapter.renderer.ids = Ids()
    outbox = studio.outboxes["telegram"]
    to = Recipient("telegram", str(ANNA.id))
    api.private_chat(ANNA)
    await outbox.send(to, Reply("Queued: position 2", edit_key="order:1"))
    await outbox.send(to, Reply("Queued: position 1", edit_key="order:1"))
    await outbox.send(to, Reply("Queued: position 1", edit_key="order:1"))  # unchanged: fine
    await outbox.send(to, Reply("Generating...", edit_key="order:1"))
    assert len(api.sent("sendMessage", ANNA.id)) == 1
    edits = api.sent("editMessageText", ANNA.id)
    assert [e.params["text"] for e in edits] == ["Queued: position 1", "Generating..."]
    assert api.last_message(ANNA.id)["text"] == "Generating..."


async def test_retry_after_is_waited_out_not_dropped(api, bot):
    api.fail_next("sendMessage", retry_after=1)
    started = time.monotonic()
    await api.send_text(ANNA, "hello")
    [call] = await api.wait_calls("sendMessage", 1, ANNA.id, timeout=10)
    assert call.params["text"] == "text hello"
    assert time.monotonic() - started >= 1.0
    refused = [c for c in api.calls if c.method == "sendMessage" and c.error]
    assert refused and "429" in refused[0].error


async def test_one_private_chat_gets_a_burst_then_about_one_message_a_second(api, bot):
    adapter, _ = bot
    api.private_chat(ANNA)
    api.private_chat(BORIS)
    to_anna = Recipient("telegram", str(ANNA.id))
    started = time.monotonic()
    to_boris = Recipient("telegram", str(BORIS.id))
    await asyncio.gather(
        *(adapter.outbox.send(to_anna, Reply(f"note {n}")) for n in range(8)),
        adapter.outbox.send(to_boris, Reply("hi")),  # another chat is not held up
    )
    times = sorted(c.at - started for c in api.sent("sendMessage", ANNA.id))
    assert len(times) == 8
    # The burst of six goes at once, then one a second. Compared with each other, not
    # with fixed offsets from the start, so a busy machine does not fail it.
    burst, paced = times[5] - times[0], times[6] - times[5]
    assert burst < paced and paced >= 0.5
    assert times[6] >= 0.9 and times[7] - times[6] >= 0.5
    [boris] = api.sent("sendMessage", BORIS.id)
    assert boris.at - started < times[7]


def test_callback_data_over_64_bytes_is_refused():
    with pytest.raises(ButtonDataTooLong, match="65 bytes"):
        keyboard(((Button("x", "a" * 65),),))
    with pytest.raises(ButtonDataTooLong):
        keyboard(((Button("x", "é" * 33),),))  # 66 bytes in UTF-8
    assert keyboard(((Button("x", "a" * 64),),)) is not None


def test_long_text_is_split_at_lines():
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(100))
    parts = split_text(text)
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text


async def test_the_token_never_reaches_the_logs(api, bot, caplog):
    import logging

    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.INFO)  # what `sitter run` logs by default
    await api.send_text(ANNA, "/help")
    await api.wait_calls("sendMessage", 1, ANNA.id)
    assert api.token not in caplog.text
    assert api.token.split(":")[1] not in caplog.text


@pytest.mark.parametrize(
    ("code", "description", "refused"),
    [
        (403, "Forbidden: bot was blocked by the user", True),
        (403, "Forbidden: user is deactivated", True),
        (400, "Bad Request: chat not found", True),
        (400, "Bad Request: message text is empty", False),
        (502, "Bad Gateway", False),
        (500, "Internal Server Error", False),
    ],
)
async def test_outbox_tells_a_refusing_chat_from_a_passing_failure(
    api, bot, code, description, refused
):
    """Review 1, finding 3: only a chat that refuses us for good raises ChatRefused (the
    tracker gives up on it); a 5xx or other error is raised as it is (tried again)."""
    from bot.studio.core.events import ChatRefused

    _adapter, studio = bot
    api.private_chat(ANNA)
    outbox = studio.outboxes["telegram"]
    api.error_next("sendMessage", code, description)
    with pytest.raises(Exception) as caught:
        await outbox.send(Recipient("telegram", str(ANNA.id)), Reply("Your portraits"))
    assert isinstance(caught.value, ChatRefused) is refused, caught.value
    await outbox.send(Recipient("telegram", str(ANNA.id)), Reply("Your portraits"))
    assert api.last_message(ANNA.id)["text"] == "Your portraits"
