"""Kill and restart the bot process (``sitter chat``) and the worker at several points.

Nothing the person gave is lost, and each order is delivered exactly once.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from studio_harness import (
    Chat,
    RecordingOutbox,
    TerminalProc,
    astronaut_set,
    photo_folder,
    start_engine,
    stop,
    until,
)

from bot.studio.core.core import Studio
from bot.studio.core.events import Who
from bot.studio.jobs.tracking import MAX_ENQUEUES
from sitter import contract as c

pytestmark = pytest.mark.studio_db  # redis_url: the studio tests' own db

READY = ": your 4 portraits."  # the results message, not the progress line


def _order(data_dir: Path) -> sqlite3.Row:
    db = sqlite3.connect(data_dir / "sitter.db")
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM orders ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        db.close()


def _to_confirm(chat: TerminalProc, photos: Path) -> None:
    chat.wait_for("Before we start")
    chat.press("I agree")
    chat.send(str(photos))
    chat.wait_for("4 good photos so far")
    chat.press("Done")
    chat.press("Cinematic")
    chat.press("Leather jacket")


def _finish_wizard(chat: TerminalProc) -> None:
    chat.press("City street")
    chat.press("Neon")
    chat.press("Half body")
    chat.press("Skip")
    chat.press("Square 1:1 (avatars)")
    chat.wait_for("Attire: Leather jacket")  # the summary names the preset chosen


def test_bot_killed_mid_wizard_continues_and_delivers_once(
    redis_url, queue_prefix, data_dir, real_engine, tmp_path
) -> None:
    """With the real engine worker (tiny model, dlib)."""
    photos = photo_folder(tmp_path / "photos")
    first = TerminalProc(redis_url, queue_prefix, data_dir)
    try:
        _to_confirm(first, photos)
        first.wait_for("Where are you")
    finally:
        first.kill()  # SIGKILL in the middle of the wizard
    second = TerminalProc(redis_url, queue_prefix, data_dir)
    try:
        second.wait_for("Welcome back")
        second.wait_for("Where are you")  # the same step, answers kept
        _finish_wizard(second)
        second.press("✓ Queue it")
        second.wait_for(READY)
        assert second.quit() == 0
    finally:
        second.kill()
    third = TerminalProc(redis_url, queue_prefix, data_dir)
    try:
        third.wait_for("Welcome back")
        time.sleep(1.5)  # several background passes
        assert third.count(READY) == 0, "delivered twice"
        assert third.quit() == 0
    finally:
        third.kill()
    order = _order(data_dir)
    assert order["status"] == "delivered" and "leather jacket" in order["prompt"]


def test_order_finishing_while_bot_is_down_is_delivered_once(
    redis_url, queue_prefix, data_dir, tmp_path
) -> None:
    photos = photo_folder(tmp_path / "photos")
    log = data_dir / "engine.log"
    worker = start_engine(redis_url, queue_prefix, data_dir / "engine", log=log)
    bot = TerminalProc(redis_url, queue_prefix, data_dir)
    try:
        _to_confirm(bot, photos)
        _finish_wizard(bot)
        stop(worker, kill=True)  # no worker: the order waits in the queue
        bot.press("✓ Queue it")
        bot.wait_for("is queued: position 1")
    finally:
        bot.kill()
        stop(worker, kill=True)
    # The bot is down; a worker comes up and finishes the order.
    worker = start_engine(redis_url, queue_prefix, data_dir / "engine", log=log)
    try:
        job_id = _order(data_dir)["job_id"]

        async def finished() -> None:
            from sitter.queue import EngineClient, connect

            redis = await connect(redis_url, queue_prefix)
            engine = EngineClient(redis, queue_prefix)
            try:
                for _ in range(400):
                    if (await engine.state(c.JOB_GENERATE, job_id)).status == "done":
                        return
                    await asyncio.sleep(0.1)
                raise AssertionError("the worker did not finish the order")
            finally:
                await redis.aclose()

        asyncio.run(finished())
        assert _order(data_dir)["status"] in ("queued", "running")  # nobody told the bot
        back = TerminalProc(redis_url, queue_prefix, data_dir)
        try:
            back.wait_for(READY)
            time.sleep(1.5)
            assert back.count(READY) == 1
            assert back.quit() == 0
        finally:
            back.kill()
        again = TerminalProc(redis_url, queue_prefix, data_dir)
        try:
            again.wait_for("Welcome back")
            time.sleep(1.5)
            assert again.count(READY) == 0
            assert again.quit() == 0
        finally:
            again.kill()
    finally:
        stop(worker)
    assert _order(data_dir)["status"] == "delivered"


@pytest.mark.slow
def test_worker_killed_while_generating_is_retried(
    redis_url, queue_prefix, data_dir, tmp_path, monkeypatch
) -> None:
    """arq gives a dead worker's job to the next one once its in-progress mark expires
    (job timeout + 10 s; the stand-in engine runs with a 3 s job timeout here)."""
    monkeypatch.setenv("STUDIO_ENGINE_JOB_TIMEOUT", "3")
    photos = photo_folder(tmp_path / "photos")
    log = data_dir / "engine.log"
    slow = start_engine(redis_url, queue_prefix, data_dir / "engine", delay=2.5, log=log)
    bot = TerminalProc(redis_url, queue_prefix, data_dir)
    try:
        _to_confirm(bot, photos)
        _finish_wizard(bot)
        bot.press("✓ Queue it")
        bot.wait_for("painting your 4 portraits now")
        stop(slow, kill=True)  # the worker dies mid-job
        bot.kill()  # and the bot too
    finally:
        stop(slow, kill=True)
        bot.kill()
    fresh = start_engine(redis_url, queue_prefix, data_dir / "engine", delay=0.1, log=log)
    back = TerminalProc(redis_url, queue_prefix, data_dir)
    try:
        back.wait_for(READY, timeout=60)
        time.sleep(1.0)
        assert back.count(READY) == 1
        assert back.quit() == 0
    finally:
        back.kill()
        stop(fresh)
    assert _order(data_dir)["status"] == "delivered"


async def test_lost_job_is_enqueued_again_then_failed_clearly(studio: Studio) -> None:
    """A job id Redis forgot (expired result, Redis lost its data) never leaves an order stuck."""
    chat = Chat(studio, Who("terminal", "lee", "lee-chat", "Lee"))
    outbox: RecordingOutbox = studio.outboxes["terminal"]  # type: ignore[assignment]
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(astronaut_set())
    await chat.press("Done")
    for label in (
        "Fantasy",
        "Knitwear",
        "Nature",
        "Dramatic",
        "Headshot",
        "Skip",
        "Square 1:1 (avatars)",
        "✓ Queue it",
    ):
        await chat.press(label)
    user = await studio.store.user("terminal", "lee")
    order = await studio.store.last_order(user["id"])
    await until(studio, lambda: any(r.images for _, r in outbox.sent), 60, "first delivery")

    # Redis loses the job while the order is still marked running: enqueued again, delivered.
    await studio.store.set_order(order["id"], status="running", delivered_at=None)
    await studio.engine.redis.delete(f"arq:result:{order['job_id']}", f"arq:job:{order['job_id']}")
    await until(studio, lambda: sum(1 for _, r in outbox.sent if r.images) == 2, 60, "re-delivery")
    assert (await studio.store.order(order["id"]))["enqueues"] == 2

    # Lost more often than MAX_ENQUEUES: a clear failure with a retry button, told once.
    await studio.store.set_order(
        order["id"], status="running", delivered_at=None, enqueues=MAX_ENQUEUES
    )
    await studio.engine.redis.delete(f"arq:result:{order['job_id']}", f"arq:job:{order['job_id']}")
    await studio.tracker().tick()
    await studio.tracker().tick()
    failures = [r for _, r in outbox.sent if "failed" in r.text]
    assert len(failures) == 1 and "lost the job" in failures[0].text
    assert failures[0].buttons[0][0].label.startswith("↻ Try again")
    assert (await studio.store.order(order["id"]))["status"] == "failed"


async def test_platform_down_delivers_later(studio: Studio) -> None:
    """When the outbox raises (platform unreachable), the result waits and goes out later."""
    chat = Chat(studio, Who("terminal", "kim", "kim-chat", "Kim"))
    outbox: RecordingOutbox = studio.outboxes["terminal"]  # type: ignore[assignment]
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(astronaut_set())
    await chat.press("Done")
    for label in (
        "Pop art",
        "Knitwear",
        "Nature",
        "Neon",
        "Headshot",
        "Skip",
        "Square 1:1 (avatars)",
    ):
        await chat.press(label)
    outbox.fail = True
    await chat.press("✓ Queue it")
    user = await studio.store.user("terminal", "kim")
    order = await studio.store.last_order(user["id"])

    async def done() -> None:
        for _ in range(600):
            await studio.tracker().tick()
            if (await studio.store.order(order["id"]))["status"] == "done":
                return
            await asyncio.sleep(0.05)
        raise AssertionError("order not collected")

    await done()
    assert not outbox.sent
    assert (await studio.store.variations(order["id"])) and all(
        studio.store.media.path(v.path).is_file()
        for v in await studio.store.variations(order["id"])
    )
    outbox.fail = False
    await until(studio, lambda: any(r.images for _, r in outbox.sent), 10, "late delivery")
    assert (await studio.store.order(order["id"]))["status"] == "delivered"


async def test_photo_cut_short_is_checked_again_and_no_worker_is_told(
    studio: Studio, engine
) -> None:
    """A photo whose check was cut short by a crash (row left 'pending') is checked
    again when sent again; with no worker, the person is told so at once."""
    chat = Chat(studio, Who("terminal", "pat", "pat-chat", "Pat"))
    await chat.send("/start")
    await chat.press("I agree")
    photo = astronaut_set()[0]
    user = await studio.store.user("terminal", "pat")
    ref = await studio.store.current_set(user["id"])
    rel, sha = studio.store.media.put(user["id"], "refs", photo.data or b"", "png")
    await studio.store.add_photo(ref["id"], user["id"], sha, rel, photo.filename)  # pending
    [v] = await chat.files([photo])
    assert "astronaut.png: ✓ accepted" in v.text, v.text

    stop(engine)
    studio.analyze_timeout_s = 1.0
    [v] = await chat.files([astronaut_set()[1]])
    # No worker: told at once, and the photo is kept unchecked for Done (issue 13).
    assert "The studio's engine is not running" in v.text and "kept your 1 photo" in v.text
    statuses = [p.status for p in await studio.store.photos(ref["id"])]
    assert statuses == ["accepted", "pending"]
