"""A 9:16 order with a described subject, end to end on the real worker (tiny model,
dlib): the portraits come back at the size engine/formats.py gives the tiny family for
9:16, and the prompts the worker read carry the description."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from studio_harness import Chat, RecordingOutbox, astronaut_set, until

from bot.studio.core.core import Studio
from bot.studio.core.events import Who
from bot.studio.orders.painting import Painting
from engine.formats import size_for
from sitter import contract as c

pytestmark = pytest.mark.studio_db

WHO = Who("terminal", "rosa", "rosa-chat", "Rosa")
REDHEAD = "a woman in her 40s with curly red hair"


@pytest.mark.slow
async def test_a_story_order_with_a_described_subject_on_the_real_worker(
    real_studio: Studio,
) -> None:
    studio = real_studio
    chat = Chat(studio, WHO)
    outbox = studio.outboxes["terminal"]
    assert isinstance(outbox, RecordingOutbox)
    await chat.send("/start")
    await chat.press("I agree")
    [verdicts] = await chat.files(astronaut_set())
    assert verdicts.text.count("✓ accepted") == 4, verdicts.text
    await chat.press("Done")
    for label in ("Cinematic", "Leather jacket", "City street", "Neon", "Half body"):
        await chat.press(label)
    await chat.send(REDHEAD)
    await chat.press("Story 9:16")
    summary = chat.text()
    assert f"Described as: {REDHEAD}" in summary and "Format: Story 9:16" in summary
    await chat.press("✓ Queue it")
    await until(studio, lambda: any(r.images for _, r in outbox.sent), 240, "four portraits")
    results = next(r for _, r in outbox.sent if r.images)
    assert "Cinematic, Story 9:16: your 4 portraits" in results.text
    want = size_for("tiny", c.Aspect.STORY)  # 48 x 88
    sizes = {Image.open(io.BytesIO(i.path.read_bytes())).size for i in results.images}
    assert sizes == {want}, sizes
    user = await studio.store.user("terminal", "rosa")
    order = await studio.store.last_order(user["id"])
    assert order["aspect"] == "9:16" and order["subject"] == REDHEAD
    assert REDHEAD in order["prompt"]
    reference = studio.orders.reference_prompt(
        Painting.of_order(order)
    )  # what FLUX.2 [klein] would read
    assert f"the person in the reference images ({REDHEAD})" in reference
