"""The bot's whole order on FLUX.2 [klein]: Studio.handle, real Redis, SQLite, `sitter worker`.

The worker runs the tiny random FLUX.2 [klein] (SITTER_MODEL=tiny-klein) with dlib:
the references the studio sends carry the analysis' crops and quality values, the
order goes out worded for an editing model, and four portraits come back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from studio_harness import (
    Chat,
    RecordingOutbox,
    astronaut_set,
    open_studio,
    real_engine_available,
    start_engine,
    stop,
    until,
)

from bot.studio.core.core import Studio
from bot.studio.core.events import Who
from bot.studio.orders.painting import Painting

pytestmark = pytest.mark.studio_db  # redis_url: the studio tests' own db

WHO = Who("terminal", "kim", "kim-chat", "Kim")


@pytest.fixture
def klein_engine(
    redis_url: str, queue_prefix: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    if not real_engine_available():
        pytest.skip("needs the engine's worker and photo analysis")
    monkeypatch.setenv("STUDIO_TEST_MODEL", "tiny-klein")
    monkeypatch.delenv("STUDIO_TEST_ENGINE", raising=False)
    log = data_dir / "engine.log"
    proc = start_engine(redis_url, queue_prefix, data_dir / "engine", log=log, kind="real")
    yield log
    stop(proc)


@pytest.fixture
async def klein_studio(
    redis_url: str, queue_prefix: str, data_dir: Path, klein_engine: Path
) -> AsyncIterator[Studio]:
    s = await open_studio(data_dir, redis_url, queue_prefix)
    yield s
    await s.aclose()


@pytest.mark.slow
async def test_an_order_on_tiny_klein_from_photos_to_four_portraits(
    klein_studio: Studio, klein_engine: Path
) -> None:
    studio = klein_studio
    chat = Chat(studio, WHO)
    outbox: RecordingOutbox = studio.outboxes["terminal"]  # type: ignore[assignment]
    await chat.send("/start")
    await chat.press("I agree")
    [verdicts] = await chat.files(astronaut_set())
    assert verdicts.text.count("✓ accepted") == 4, verdicts.text
    await chat.press("Done")

    # Typed answers too long for the text encoder: refused before anything is queued.
    await chat.press("Pencil sketch")
    long_answer = "a very long and winding description of everything " * 3  # 153 chars
    for _ in range(4):
        await chat.send(long_answer)
    await chat.press("Skip")
    await chat.press("Square 1:1 (avatars)")
    [refused] = await chat.press("✓ Queue it")
    assert "too long for this model" in refused.text and "at most 512" in refused.text
    user = await studio.store.user("terminal", "kim")
    assert await studio.store.last_order(user["id"]) is None

    await chat.send("/new")
    await chat.press("Pencil sketch")
    await chat.press("Knitwear")
    await chat.press("Library")
    await chat.press("Golden hour")
    await chat.press("Headshot")
    await chat.press("Skip")
    await chat.press("Square 1:1 (avatars)")
    [progress] = await chat.press("✓ Queue it")
    assert "queued" in progress.text

    await until(studio, lambda: any(r.images for _, r in outbox.sent), 240, "four portraits")
    results = next(r for _, r in outbox.sent if r.images)
    assert len(results.images) == 4
    from PIL import Image

    for image in results.images:
        with Image.open(image.path) as im:
            assert im.size == (64, 64)

    # The worker loaded FLUX.2 [klein] through the production loader.
    log = await asyncio.to_thread(klein_engine.read_text, errors="replace")
    assert "loading tiny-klein (klein)" in log

    # What the studio kept and sent: each photo's quality values, for choosing references.
    order = await studio.store.last_order(user["id"])
    assert order["status"] == "delivered"
    photos = await studio.store.photos(order["set_id"], "accepted")
    qualities = [p.quality for p in photos]
    assert all({"sharpness", "brightness", "face_px"} <= set(q) for q in qualities)
    worded = studio.orders.reference_prompt(Painting.of_order(order))
    assert worded.startswith("detailed graphite pencil sketch of the person in the reference")
    assert "a cosy knit sweater" in worded and "as in the reference images" in worded
