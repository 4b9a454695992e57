"""The bot's whole order on Qwen-Image-Edit: Studio.handle, real Redis, SQLite, `sitter worker`.

The second reference-image family (engine/families/qwen_edit.py) through the same flow
as FLUX.2 [klein] (test_klein_flow.py): the worker runs the tiny random
Qwen-Image-Edit-2509 layout (SITTER_MODEL=tiny-qwen-edit) with dlib, the order goes out
worded for an editing model, and four portraits come back; the studio does not know
which family served it.
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

WHO = Who("terminal", "lin", "lin-chat", "Lin")


@pytest.fixture
def qwen_engine(
    redis_url: str, queue_prefix: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    if not real_engine_available():
        pytest.skip("needs the engine's worker and photo analysis")
    monkeypatch.setenv("STUDIO_TEST_MODEL", "tiny-qwen-edit")
    monkeypatch.delenv("STUDIO_TEST_ENGINE", raising=False)
    log = data_dir / "engine.log"
    proc = start_engine(redis_url, queue_prefix, data_dir / "engine", log=log, kind="real")
    yield log
    stop(proc)


@pytest.fixture
async def qwen_studio(
    redis_url: str, queue_prefix: str, data_dir: Path, qwen_engine: Path
) -> AsyncIterator[Studio]:
    s = await open_studio(data_dir, redis_url, queue_prefix)
    yield s
    await s.aclose()


@pytest.mark.slow
async def test_an_order_on_tiny_qwen_edit_from_photos_to_four_portraits(
    qwen_studio: Studio, qwen_engine: Path
) -> None:
    studio = qwen_studio
    chat = Chat(studio, WHO)
    outbox: RecordingOutbox = studio.outboxes["terminal"]  # type: ignore[assignment]
    await chat.send("/start")
    await chat.press("I agree")
    [verdicts] = await chat.files(astronaut_set())
    assert verdicts.text.count("✓ accepted") == 4, verdicts.text
    await chat.press("Done")

    await chat.press("Pencil sketch")
    await chat.press("Knitwear")
    await chat.press("Library")
    await chat.press("Golden hour")
    await chat.press("Headshot")
    await chat.press("Skip")
    await chat.press("Square 1:1 (avatars)")
    [progress] = await chat.press("✓ Queue it")
    assert "queued" in progress.text

    await until(studio, lambda: any(r.images for _, r in outbox.sent), 300, "four portraits")
    results = next(r for _, r in outbox.sent if r.images)
    assert len(results.images) == 4
    from PIL import Image

    for image in results.images:
        with Image.open(image.path) as im:
            assert im.size == (64, 64)

    # The worker loaded Qwen-Image-Edit through the production loader and its family.
    log = await asyncio.to_thread(qwen_engine.read_text, errors="replace")
    assert "loading tiny-qwen-edit (qwen-edit)" in log

    user = await studio.store.user("terminal", "lin")
    order = await studio.store.last_order(user["id"])
    assert order["status"] == "delivered"
    worded = studio.orders.reference_prompt(Painting.of_order(order))
    assert worded.startswith("detailed graphite pencil sketch of the person in the reference")
