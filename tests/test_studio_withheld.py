"""Portraits the safety check withholds: the person is told neutrally, the audit log
has them without the image, and nothing of them is stored.

The real engine worker (tiny model) on the gpu queue with a threshold every image
reaches, beside the stand-in on the fast queue (its photo checks have no safety
check, so the reference photos still pass).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from studio_harness import (
    Chat,
    RecordingOutbox,
    astronaut_set,
    open_studio,
    start_engine,
    stop,
    until,
)

from bot.store.moderation_store import ModerationStore
from bot.studio.core import words
from bot.studio.core.events import Who

pytestmark = pytest.mark.studio_db  # redis_url: the studio tests' own db

WHO = Who("terminal", "wes", "wes-chat", "Wes")


@pytest.fixture
def strict_engine(
    redis_url: str, queue_prefix: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[object]:
    monkeypatch.setenv("SITTER_SAFETY_THRESHOLD", "0")  # every image is "over"
    proc = start_engine(
        redis_url, queue_prefix, data_dir / "engine", log=data_dir / "engine.log", kind="mixed"
    )
    yield proc
    stop(proc)


@pytest.mark.slow
async def test_withheld_portraits_are_named_neutrally_and_audited(
    redis_url: str, queue_prefix: str, data_dir: Path, strict_engine: object
) -> None:
    studio = await open_studio(data_dir, redis_url, queue_prefix)
    try:
        chat = Chat(studio, WHO)
        outbox: RecordingOutbox = studio.outboxes["terminal"]  # type: ignore[assignment]
        await chat.send("/start")
        await chat.press("I agree")
        [verdicts] = await chat.files(astronaut_set())
        assert verdicts.text.count("✓ accepted") == 4, verdicts.text
        await chat.press("Done")
        await chat.press("Watercolor")
        for _ in range(6):  # attire, setting, lighting, composition, subject, format: the first
            await chat.press(chat.last[0].buttons[0][0].label)
        await chat.press("✓ Queue it")

        line = words.withheld_line(4)
        await until(studio, lambda: any(line in r.text for _, r in outbox.sent), 240, "withheld")
        reply = next(r for _, r in outbox.sent if line in r.text)
        assert not reply.images and "Retry" in reply.buttons[0][0].label
        assert "nudity" not in reply.text and "score" not in reply.text  # neutral

        user = await studio.store.user("terminal", "wes")
        order = await studio.store.last_order(user["id"])
        assert order["status"] == "delivered"
        assert await studio.store.variations(order["id"]) == []
        stored = [p for p in (data_dir / "media").rglob("*") if "results" in p.parts]
        assert not [p for p in stored if p.is_file()]  # nothing of them is stored
        entries = [
            e
            for e in await ModerationStore(studio.store).audit()
            if e["action"] == "output_withheld"
        ]
        assert len(entries) == 4
        for e in entries:
            detail = json.loads(e["detail"])
            assert e["target_user_id"] == user["id"] and detail["order_id"] == order["id"]
            assert set(detail) == {"order_id", "seed", "attempts", "safety", "threshold"}
            assert detail["threshold"] == 0 and detail["attempts"] >= 1
    finally:
        await studio.aclose()
