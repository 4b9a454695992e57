"""The whole studio over Telegram: scripted chats through the real PTB client.

Real parts end to end: the Bot API emulator on 127.0.0.1 (the outer edge, the
only fake), python-telegram-bot polling it, the real Studio over a SQLite file,
the real Redis and the real engine worker process (``sitter worker`` with the
tiny diffusion model and dlib's face models). Assertions are on what the bot
actually sent to the server.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from telegram_api import BotApiEmulator, TgUser
from telegram_harness import (
    BotProcess,
    drop_keys,
    no_face_photo,
    photo_set,
    real_engine_available,
    start_worker,
    stop_worker,
)

from sitter.config import Settings

ANNA = TgUser(2001, "Anna", "anna_k")
BORIS = TgUser(2002, "Boris")
FLOW_TIMEOUT = 60.0
ENGINE_DB = 11  # (12: studio tests, flushed per session; 13, 14: benchmarks)
# Each module worker's data folder by queue prefix: its C2PA signer is the studio's own,
# the only one whose labels the engine believes (engine/provenance.py signed_ai_info).
ENGINE_DATA: dict[str, Path] = {}


@pytest.fixture(scope="module")
def engine(
    redis_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """One real worker process for the module: (redis url, queue prefix).

    The worker lives for the whole module, so it does not use db 9: other tests
    flush db 9 at their start, which would wipe this worker's queued jobs.
    """
    if redis_server.startswith("unix://"):
        url = redis_server.replace("db=0", f"db={ENGINE_DB}")
    else:
        url = redis_server.rsplit("/", 1)[0] + f"/{ENGINE_DB}"
    prefix = f"test-tg-{uuid.uuid4().hex[:8]}"
    work = tmp_path_factory.mktemp("engine")
    proc = start_worker(url, prefix, work / "data", work / "worker.log")
    ENGINE_DATA[prefix] = work / "data"
    yield url, prefix
    stop_worker(proc)
    asyncio.run(drop_keys(url, prefix))


@pytest.fixture
async def api() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    await emulator.start()
    yield emulator
    if os.environ.get("SITTER_TRANSCRIPT"):
        print(f"\n--- transcript ---\n{emulator.transcript()}\n--- end ---")
    await emulator.stop()


@pytest.fixture
def settings(api: BotApiEmulator, engine: tuple[str, str], data_dir: Path) -> Settings:
    url, prefix = engine
    return Settings(
        data_dir=data_dir,
        redis_url=url,
        queue_prefix=prefix,
        min_photos=2,
        poll_delay_s=0.02,
        model="tiny",
        face_backend="dlib",
    )


@pytest.fixture
async def bot(settings: Settings, api: BotApiEmulator) -> AsyncIterator[BotProcess]:
    proc = await BotProcess(settings, api).start()
    yield proc
    await proc.stop()


def last_text(api: BotApiEmulator, chat_id: int) -> str:
    texts = api.texts(chat_id)
    return texts[-1] if texts else ""


async def said(api: BotApiEmulator, chat_id: int, words: str, timeout: float = 20.0) -> str:
    """Wait until the chat shows a text containing ``words``; return that text."""
    return await api.wait_for(
        lambda: next((t for t in reversed(api.texts(chat_id)) if words in t), None),
        timeout,
        f"{words!r} in chat {chat_id}",
    )


async def consent_and_photos(api: BotApiEmulator, user: TgUser) -> None:
    await api.send_text(user, "/start")
    await api.wait_for(lambda: "I agree" in api.buttons(user.id), what="consent buttons")
    await api.press_button(user, "I agree")
    await said(api, user.id, "Send me photos")
    good = photo_set()[:2]
    await api.send_album(user, [*good, no_face_photo()], f"album-{user.id}")
    await api.wait_for(lambda: any("Done (2" in b for b in api.buttons(user.id)), 30, "Done")


async def through_wizard(api: BotApiEmulator, user: TgUser) -> None:
    await api.press_button(user, "Done (2")
    await said(api, user.id, "choose a style")
    # Style: the first style button.
    msg = api.last_message(user.id)
    first_style = msg["reply_markup"]["inline_keyboard"][0][0]
    await api.press(user, msg, first_style["callback_data"])
    await said(api, user.id, "Step 2 of 7")
    await _first_preset(api, user)  # attire
    await said(api, user.id, "Step 3 of 7")
    await api.press_button(user, "Type my own")  # setting, typed
    await said(api, user.id, "Type your answer")
    await api.send_text(user, "a rooftop garden at dusk 🌇")
    await said(api, user.id, "Step 4 of 7")
    await _first_preset(api, user)  # lighting
    await said(api, user.id, "Step 5 of 7")
    await _first_preset(api, user)  # composition
    await said(api, user.id, "Step 6 of 7")
    await api.press_button(user, "Type my own")  # how to describe you, typed
    await said(api, user.id, "up to 80 characters")
    await api.send_text(user, "a woman in her 40s with curly red hair")
    await said(api, user.id, "Step 7 of 7")
    await api.press_button(user, "Story 9:16")  # format
    await said(api, user.id, "Queue it?")


def _size(data: bytes) -> tuple[int, int]:
    import io

    from PIL import Image

    return Image.open(io.BytesIO(data)).size


async def _first_preset(api: BotApiEmulator, user: TgUser) -> None:
    msg = api.last_message(user.id)
    button = msg["reply_markup"]["inline_keyboard"][0][0]
    await api.press(user, msg, button["callback_data"])


async def test_full_flow_from_start_to_results_and_each_action(api, bot):
    await consent_and_photos(api, ANNA)
    # The album was answered ONCE, with a verdict per photo.
    verdicts = [t for t in api.texts(ANNA.id) if "accepted" in t or "✗" in t]
    assert len(verdicts) == 1, verdicts
    lines = verdicts[0].splitlines()
    assert lines[0] == "photo 1: ✓ accepted." and lines[1] == "photo 2: ✓ accepted."
    assert lines[2].startswith("photo 3: ✗") and "face" in lines[2], lines

    await through_wizard(api, ANNA)
    summary = last_text(api, ANNA.id)
    assert "a rooftop garden at dusk 🌇" in summary
    assert "Described as: a woman in her 40s with curly red hair" in summary
    assert "Format: Story 9:16" in summary
    await api.press_button(ANNA, "Queue it")
    await said(api, ANNA.id, "Order #1")
    # Results: one album of four, then the actions message.
    [album] = await api.wait_calls("sendMediaGroup", 1, ANNA.id, timeout=FLOW_TIMEOUT)
    assert len(album.params["media"]) == 4 and len(album.files) == 4
    for _name, data in album.files.values():
        assert data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff"
        assert _size(data) == (48, 88)  # the tiny model's 9:16 (engine/formats.py)
    buttons = await api.wait_for(
        lambda: "Upscale 1" in api.buttons(ANNA.id) and api.buttons(ANNA.id)
    )
    for n in range(1, 5):
        assert f"Upscale {n}" in buttons and f"Label {n}" in buttons
    assert any("Retry" in b for b in buttons)
    # The progress message was edited in place ("ready"), not repeated.
    await said(api, ANNA.id, "Order #1 is ready")
    edits = [c for c in api.sent("editMessageText", ANNA.id) if "Order #1" in c.params["text"]]
    assert edits, "the progress message was never edited"
    assert len({c.params["message_id"] for c in edits}) == 1

    # Upscale #1 and label #2 come back as documents that say why.
    await api.press_button(ANNA, "Upscale 1")
    await api.press_button(ANNA, "Label 2")
    docs = await api.wait_calls("sendDocument", 2, ANNA.id, timeout=FLOW_TIMEOUT)
    for d in docs:
        assert "metadata" in d.params["caption"]
        name, data = next(iter(d.files.values()))
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and name.startswith("sitter-")
    # Retry: a new order with new seeds -> a second album.
    await api.press_button(ANNA, "Retry")
    await said(api, ANNA.id, "again with new seeds")
    await api.wait_calls("sendMediaGroup", 2, ANNA.id, timeout=FLOW_TIMEOUT)
    # /portraits lists both orders and sends the first again, with its buttons.
    await api.send_text(ANNA, "/portraits")
    listing = await said(api, ANNA.id, "Your portraits")
    assert (
        "#2 Black and white, Story 9:16" in listing and "#1 Black and white, Story 9:16" in listing
    )
    await api.press_button(ANNA, "Show #1")
    await api.wait_calls("sendMediaGroup", 3, ANNA.id, timeout=FLOW_TIMEOUT)
    await said(api, ANNA.id, "Order #1 – Black and white, Story 9:16: your 4 portraits")
    # Every press was answered.
    queries = [e for e in api.events if e["kind"] == "user" and "presses" in e["line"]]
    assert len(api.sent("answerCallbackQuery")) == len(queries)


def heic(data: bytes) -> bytes:
    """The same photo as an iPhone would send it as a file: HEIC."""
    import io

    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buf, "HEIF", quality=90)
    return buf.getvalue()


async def test_documents_groups_and_foreign_or_stale_buttons(api, bot, settings):
    # In a group: a pointer to the private chat; photos there are never taken.
    group = api.group_chat(-100777, "Influencers")
    await api.send_photo(BORIS, photo_set()[0], chat=group)
    await api.send_text(BORIS, "/start", chat=group)
    pointer = await said(api, group["id"], "private chat")
    assert "https://t.me/sitter_test_bot?start=portrait" in pointer
    # Private chat: consent, then photos as documents (original bytes, HEIC too).
    await api.send_text(BORIS, "/start portrait")
    await api.wait_for(lambda: "I agree" in api.buttons(BORIS.id), what="consent buttons")
    consent_msg, agree = api.find_button(BORIS.id, "I agree")
    await api.press(BORIS, consent_msg, agree)
    await said(api, BORIS.id, "Send me photos")
    original = photo_set()[0]
    await api.send_document(BORIS, original, "me.jpg", "image/jpeg")
    await said(api, BORIS.id, "me.jpg: ✓ accepted")
    await api.send_document(BORIS, heic(photo_set()[1]), "IMG_0420.HEIC", "image/heic")
    if real_engine_available():  # (the stand-in worker does not read HEIC)
        await said(api, BORIS.id, "IMG_0420.HEIC: ✓ accepted")
    else:
        await said(api, BORIS.id, "IMG_0420.HEIC")
    await api.send_document(BORIS, b"%PDF-1.4\n...", "contract.pdf", "application/pdf")
    refused = await said(api, BORIS.id, "contract.pdf")
    assert "not an image (application/pdf)" in refused
    big = 30 * 1024 * 1024
    await api.send_document(BORIS, original, "huge.jpg", "image/jpeg", declared_size=big)
    too_big = await said(api, BORIS.id, "huge.jpg")
    assert "Telegram's 20 MB" not in too_big and "limit" in too_big  # self-hosted URL: ours
    downloads = [c.params["file_path"] for c in api.calls if c.method == "download"]
    assert len(downloads) == 2  # only the two photos were fetched, at full size
    assert not [e for e in api.events if e["chat"] == group["id"] and "accepted" in e["line"]]
    # The stored reference is the document's exact bytes (no recompression on the way).
    import hashlib

    from bot.store.store import Store

    store = await Store.open(settings.db_path, settings.media_dir)
    try:
        rows = await store.all("SELECT sha256, filename FROM reference_photos")
    finally:
        await store.close()
    shas = {r["filename"]: r["sha256"] for r in rows}
    assert shas["me.jpg"] == hashlib.sha256(original).hexdigest()

    # A stale button: the consent button again, after the step moved on.
    q = await api.press(BORIS, consent_msg, agree)
    await api.wait_for(lambda: api.answered(q), what="answer to the stale press")
    await said(api, BORIS.id, "earlier message")
    # A foreign button: data naming a portrait that is not Boris's.
    other = await _someone_elses_variation(settings)
    q = await api.press(BORIS, consent_msg, f"u:{other}")
    await said(api, BORIS.id, "belongs to someone else")
    assert api.answered(q)


async def _someone_elses_variation(settings: Settings) -> int:
    """A finished portrait of another user, written straight into the database."""
    from bot.store.store import Store

    store = await Store.open(settings.db_path, settings.media_dir)
    try:
        owner = await store.ensure_user("telegram", "999", "Carla", "999")
        order_id = await store.run(
            "INSERT INTO orders (user_id, platform, style, prompt, status) "
            "VALUES (?, 'telegram', 'watercolor', 'p', 'delivered')",
            owner["id"],
        )
        return await store.run(
            "INSERT INTO variations (order_id, user_id, idx, seed, path) "
            "VALUES (?, ?, 1, 1, 'u1/results/x.png')",
            order_id,
            owner["id"],
        )
    finally:
        await store.close()


async def test_restart_mid_wizard_and_mid_order_loses_nothing(api, bot, settings):
    await consent_and_photos(api, ANNA)
    await api.press_button(ANNA, "Done (2")
    await said(api, ANNA.id, "choose a style")
    msg = api.last_message(ANNA.id)
    style = msg["reply_markup"]["inline_keyboard"][0][0]["callback_data"]

    # Mid-wizard: the bot goes down; the press made meanwhile waits at the server
    # and is handled by the restarted bot, with the state from the database.
    await bot.stop()
    await api.press(ANNA, msg, style)
    assert api.pending_updates() == 1
    await bot.start()
    await said(api, ANNA.id, "Step 2 of 7")
    for step in (3, 4, 5, 6, 7):
        await _first_preset(api, ANNA)
        await said(api, ANNA.id, f"Step {step} of 7")
    await _first_preset(api, ANNA)
    await said(api, ANNA.id, "Queue it?")

    # Mid-order: queued, then the bot goes down; the worker finishes meanwhile.
    api.fail_next("sendMediaGroup", retry_after=1)  # and the server asks to slow down once
    q = await api.press_button(ANNA, "Queue it")
    await said(api, ANNA.id, "Order #1 is queued")
    await api.wait_for(lambda: api.answered(q), what="the press answered")
    await asyncio.sleep(0.3)  # let the core's own progress update land too (edit, not a copy)
    [progress] = [c for c in api.sent("sendMessage", ANNA.id) if "Order #1" in c.params["text"]]
    progress_id = progress.result["message_id"]
    await bot.stop()
    await asyncio.sleep(3)
    assert not api.sent("sendMediaGroup")
    await bot.start()
    [album] = await api.wait_calls("sendMediaGroup", 1, ANNA.id, timeout=FLOW_TIMEOUT)
    assert len(album.params["media"]) == 4
    refused = [c for c in api.calls if c.method == "sendMediaGroup" and c.error]
    assert refused and "429" in refused[0].error  # the RetryAfter was waited out, not dropped
    assert album.at - refused[0].at >= 1.0
    # The progress message from before the restart is the one edited ("ready").
    await said(api, ANNA.id, "is ready")
    ready = [c for c in api.sent("editMessageText", ANNA.id) if "is ready" in c.params["text"]]
    assert int(ready[-1].params["message_id"]) == progress_id
    # Delivered exactly once, also after another restart.
    await bot.restart()
    await asyncio.sleep(1.0)
    assert len(api.sent("sendMediaGroup", ANNA.id)) == 1
