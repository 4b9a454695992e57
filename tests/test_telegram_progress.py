"""Issue 15's chat side over Telegram, end to end: the real worker (tiny model, dlib),
the real Studio, python-telegram-bot against the loopback Bot API.

- Live progress: the worker reports its denoising steps through Redis, the tracker
  edits the order's one message; the edits the server received are counted and timed
  (printed with -s: edits per order, the shortest gap between two).
- The reference set: /photos as a contact sheet with its buttons, Remove N, and the
  same picture at another size refused (the real engine's fingerprint).
"""

from __future__ import annotations

import asyncio
import itertools
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
    start_worker,
    stop_worker,
)

from sitter.config import Settings

ANNA = TgUser(2101, "Anna")
# Edits at most every EDIT_S (SITTER_PROGRESS_EDIT_S: 3 by default; here its least, 0.5,
# since the tiny model paints an order in a few seconds on a free CPU, at most 8 steps a
# pass; SITTER_TEST_PROGRESS_EDIT_S=3 measures the default pace).
EDIT_S = float(os.environ.get("SITTER_TEST_PROGRESS_EDIT_S", "0.5"))
ENGINE_DB = 11  # as tests/test_telegram_studio.py: db 9 is flushed by other tests


@pytest.fixture(scope="module")
def engine(
    redis_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    if redis_server.startswith("unix://"):
        url = redis_server.replace("db=0", f"db={ENGINE_DB}")
    else:
        url = redis_server.rsplit("/", 1)[0] + f"/{ENGINE_DB}"
    prefix = f"test-tgp-{uuid.uuid4().hex[:8]}"
    work = tmp_path_factory.mktemp("engine")
    proc = start_worker(url, prefix, work / "data", work / "worker.log")
    yield url, prefix
    stop_worker(proc)
    asyncio.run(drop_keys(url, prefix))


@pytest.fixture
async def api() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def bot(
    api: BotApiEmulator, engine: tuple[str, str], data_dir: Path
) -> AsyncIterator[BotProcess]:
    url, prefix = engine
    settings = Settings(
        data_dir=data_dir,
        redis_url=url,
        queue_prefix=prefix,
        min_photos=2,
        poll_delay_s=0.02,
        model="tiny",
        face_backend="dlib",
        progress_edit_s=EDIT_S,
    )
    proc = await BotProcess(settings, api).start()
    yield proc
    await proc.stop()


async def _said(api: BotApiEmulator, words: str, timeout: float = 30.0) -> str:
    return await api.wait_for(
        lambda: next((t for t in reversed(api.texts(ANNA.id)) if words in t), None),
        timeout,
        repr(words),
    )


async def _first_button(api: BotApiEmulator) -> None:
    msg = api.last_message(ANNA.id)
    await api.press(ANNA, msg, msg["reply_markup"]["inline_keyboard"][0][0]["callback_data"])


async def test_progress_edits_are_counted_and_spaced(api: BotApiEmulator, bot: BotProcess) -> None:
    await api.send_text(ANNA, "/start")
    await api.wait_for(lambda: "I agree" in api.buttons(ANNA.id), what="consent")
    await api.press_button(ANNA, "I agree")
    await _said(api, "Send me photos")
    await api.send_album(ANNA, [*photo_set()[:2], no_face_photo()], "album-p")
    await api.wait_for(lambda: any("Done (2" in b for b in api.buttons(ANNA.id)), 60, "Done")
    await api.press_button(ANNA, "Done (2")
    await _said(api, "choose a style")
    for step in range(2, 8):  # the slots, how to describe you, the format
        await _first_button(api)
        await _said(api, f"Step {step} of 7")
    await _first_button(api)
    await _said(api, "Queue it?")
    await api.press_button(ANNA, "Queue it")
    await api.wait_calls("sendMediaGroup", 1, ANNA.id, timeout=180)
    await _said(api, "Order #1 is ready")

    first = next(c for c in api.sent("sendMessage", ANNA.id) if "Order #1" in c.params["text"])
    edits = [c for c in api.sent("editMessageText", ANNA.id) if "Order #1" in c.params["text"]]
    assert {int(c.params["message_id"]) for c in edits} == {first.result["message_id"]}
    paced = [c for c in edits if "is ready" not in c.params["text"]]
    bars = [c for c in paced if "%" in c.params["text"]]
    gaps = [b.at - a.at for a, b in itertools.pairwise(paced)]
    print(
        f"\norder 1: {len(edits)} edits ({len(bars)} with the bar), over "
        f"{edits[-1].at - first.at:.1f} s; shortest gap between two progress edits "
        f"{min(gaps, default=float('nan')):.2f} s (setting {EDIT_S} s)"
    )
    for c in [first, *edits]:
        print(f"  {c.at - first.at:6.2f} s  {c.method:16} {c.params['text']!r}")
    took = edits[-1].at - first.at
    assert len(bars) >= min(3, int(took / EDIT_S)), (took, [c.params["text"] for c in edits])
    shares = [int(c.params["text"].split("% ·")[0].rsplit(" ", 1)[1]) for c in bars]
    assert len(set(shares)) > 1 or len(bars) < 2, shares  # the bar moves
    assert all(g >= EDIT_S for g in gaps), gaps
    texts = [c.params["text"] for c in edits]
    assert all(a != b for a, b in itertools.pairwise(texts))  # never unchanged
    assert not [c for c in api.calls if c.error and "not modified" in c.error]
    assert not [c for c in api.calls if c.error and "429" in c.error]


async def test_photos_sheet_remove_and_a_resized_copy_over_telegram(
    api: BotApiEmulator, bot: BotProcess
) -> None:
    import io

    from PIL import Image

    await api.send_text(ANNA, "/start")
    await api.wait_for(lambda: "I agree" in api.buttons(ANNA.id), what="consent")
    await api.press_button(ANNA, "I agree")
    await _said(api, "Send me photos")
    photos = photo_set()[:2]
    await api.send_album(ANNA, photos, "album-s")
    await api.wait_for(lambda: any("Done (2" in b for b in api.buttons(ANNA.id)), 60, "Done")
    # The same picture, bigger and compressed harder: other bytes, counted once.
    with Image.open(io.BytesIO(photos[0])) as im:
        buf = io.BytesIO()
        im.resize((im.width * 3 // 2, im.height * 3 // 2)).save(buf, "JPEG", quality=45)
    await api.send_photo(ANNA, buf.getvalue())
    refused = await _said(api, "same picture as photo 1, resized, recompressed or mirrored")
    assert "2 good photos so far" in refused, refused

    await api.send_text(ANNA, "/photos")
    [sheet] = await api.wait_calls("sendPhoto", 1, ANNA.id, timeout=30)
    assert "Your reference set: 2 photos" in sheet.params["caption"]
    labels = [b["text"] for row in sheet.params["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Remove 1", "Remove 2", "Start a new set"], labels
    _name, data = next(iter(sheet.files.values()))
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG" and im.size == (2 * 256 + 3 * 8, 256 + 2 * 8)
    await api.press_button(ANNA, "Remove 2")
    removed = await _said(api, "Removed photo 2")
    assert "1 photo left in your set" in removed, removed
    await _said(api, "1 good photo")  # and the ask again, Done gone until there are 2
    print("\n" + api.transcript())
