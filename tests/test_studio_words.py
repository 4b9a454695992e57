"""Messages that suggest a command: the command does what they say (issue 15, item 10),
and the wording fixes of issue 11 (neutral photo hint, the summary in the person's
terms, 'no face found' explained, ↻ for Retry only)."""

from __future__ import annotations

from pathlib import Path

import pytest
from studio_harness import (
    Chat,
    open_studio,
)
from test_studio_table import WHO, ready_photos

from bot.studio.core import words_chat as w
from bot.studio.jobs.results import results_reply
from bot.studio.portrait import words_portrait as wp

pytestmark = pytest.mark.studio_db  # redis_url: the studio tests' own db

WIZARD = (
    "Watercolor",
    "As in my photos",
    "Office",
    "Soft daylight",
    "Headshot",
    "Skip",
    "Square 1:1 (avatars)",
)


async def _order(chat: Chat) -> None:
    await chat.send("/new")
    for label in WIZARD:
        await chat.press(label)
    assert "Your order" in chat.text()


async def test_cancel_suggested_at_confirm_cancels_the_order(
    data_dir: Path, redis_url: str, queue_prefix: str
) -> None:
    """ "cancel it with /cancel" at the confirm step: /cancel offers exactly that, and
    afterwards the order waiting on the screen can be queued."""
    studio = await open_studio(data_dir, redis_url, queue_prefix)  # no worker: stays queued
    try:
        await ready_photos(studio)
        chat = Chat(studio, WHO)
        await _order(chat)
        [first] = await chat.press("✓ Queue it")
        assert "Order #1 is queued" in first.text
        await _order(chat)
        confirm = list(chat.last)
        [refused] = await chat.press("✓ Queue it")
        assert "cancel it with /cancel" in refused.text
        [which] = await chat.send("/cancel")
        assert "order #1" in which.text and "nothing was queued" not in which.text
        [cancelled] = await chat.press("Cancel order #1", [which])
        assert "Order #1 cancelled" in cancelled.text
        user = await studio.store.user(WHO.platform, WHO.user_id)
        assert (await studio.store.order(1))["status"] == "cancelled"
        # The button under the refusal does the same; and the order on screen goes in.
        [queued] = await chat.press("✓ Queue it", confirm)
        assert "Order #2 is queued" in queued.text
        assert (await studio.store.last_order(user["id"]))["id"] == 2
        # With an order on its way, the wizard's own Cancel says the order goes on.
        await _order(chat)
        replies = await chat.press("✕ Cancel")
        assert "Order #2 goes on" in replies[0].text
        assert "nothing was queued" not in replies[0].text
        # /cancel when no portrait is being chosen: the order, as /help says.
        [gone] = await chat.send("/cancel")
        assert "Order #2 cancelled" in gone.text
    finally:
        await studio.aclose()


async def test_the_refusal_carries_the_cancel_it_suggests(
    data_dir: Path, redis_url: str, queue_prefix: str
) -> None:
    studio = await open_studio(data_dir, redis_url, queue_prefix)
    try:
        await ready_photos(studio)
        chat = Chat(studio, WHO)
        await _order(chat)
        await chat.press("✓ Queue it")
        await _order(chat)
        [refused] = await chat.press("✓ Queue it")
        [cancelled] = await chat.press("Cancel order", [refused])
        assert "Order #1 cancelled" in cancelled.text
    finally:
        await studio.aclose()


async def test_wording_fixes(data_dir: Path, redis_url: str, queue_prefix: str) -> None:
    studio = await open_studio(data_dir, redis_url, queue_prefix)
    try:
        chat = Chat(studio, WHO)
        await chat.send("/start")
        await chat.press("I agree")
        await chat.send("here is my photo")
        assert "send them here" in chat.text() and "photos or files" not in chat.text()
        await ready_photos(studio)
        await _order(chat)
        # The summary names what the person chose: the preset's label, not its prompt words.
        assert "Attire: As in my photos" in chat.text()
        assert "everyday clothes" not in chat.text()
        for _ in range(6):  # format, subject, composition, lighting, setting, attire
            await chat.press("◀ Back")
        await chat.send("a green 🧥 raincoat")
        for label in WIZARD[2:]:
            await chat.press(label)
        assert "Attire: a green 🧥 raincoat" in chat.text()
    finally:
        await studio.aclose()


def test_no_face_found_is_explained_once(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from sitter.prompts import PromptLibrary

    media = SimpleNamespace(path=lambda rel: tmp_path / rel)
    services = SimpleNamespace(
        prompts=PromptLibrary.load(), store=SimpleNamespace(media=media), plugin=None
    )
    from bot.store.rows import Portrait

    rows = [
        Portrait(
            id=i,
            order_id=7,
            user_id=1,
            idx=i,
            seed=i,
            path="p.png",
            removed_at=None,
            likeness=0.5,
            verdict="no_face" if i < 3 else "passed",
            threshold=0.3,
        )
        for i in (1, 2, 3)
    ]
    order = {"id": 7, "style": "watercolor"}
    reply = results_reply(services, order, rows)  # type: ignore[arg-type]
    assert sum(w.NO_FACE in i.caption for i in reply.images) == 2
    assert reply.text.count(w.NO_FACE_EXPLAINED) == 1
    clean = results_reply(services, order, rows[2:])  # type: ignore[arg-type]
    assert w.NO_FACE_EXPLAINED not in clean.text


def test_the_retry_arrow_means_retry_only() -> None:
    """↻ is on Retry buttons; an updated message is marked otherwise (the terminal)."""
    import io

    from bot.studio.core.events import Reply
    from bot.studio.core.events import Who as _Who
    from bot.terminal.app import Terminal

    assert w.RETRY_BUTTON.startswith("↻") and w.TRY_AGAIN_BUTTON.startswith("↻")
    out = io.StringIO()
    term = Terminal(Path("/nonexistent"), _Who("terminal", "me", "me"), stream=out)
    term.render([Reply("Order #3 is queued: position 1.", edit_key="order-3")])
    assert "↻" not in out.getvalue() and "Order #3 is queued" in out.getvalue()


def test_an_upscaled_copy_is_named_by_its_size_not_the_upscalers_internals() -> None:
    said = wp.follow_up_done(2, "upscaled", "realesrgan-x4plus (ncnn, cpu), 256×256", False)
    assert "Portrait #2 upscaled to 256×256." in said and "ncnn" not in said


def test_a_refusing_worker_is_explained_by_its_reason_not_its_start_up_log(tmp_path: Path) -> None:
    from bot.local_worker import TRY_OFFLINE, WorkerKeeper
    from sitter.config import load_settings

    (tmp_path / "worker.log").write_text(
        "2026-12-01 13:02:47,456 INFO    engine.runtime [order -] loaded safety in 0.09s\n"
        "[transformers] `CLIPImageProcessor` requires torchvision (not installed)\n"
        "SITTER_MODEL=black-forest-labs/FLUX.2-klein-4B is not in the model cache /x/models: "
        "run `sitter models fetch`\n"
    )
    keeper = WorkerKeeper.__new__(WorkerKeeper)  # no process: only its words
    keeper.settings = load_settings(data_dir=tmp_path)
    reason = keeper._reason()
    assert "INFO" not in reason and "torchvision" not in reason
    assert "not in the model cache" in reason and TRY_OFFLINE in reason
