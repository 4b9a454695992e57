"""Issue 13, "nothing stuck": orders whose result can't be read, killed workers, blocked
chats and a cancel racing the tracker, on a real Redis, SQLite file and worker processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from arq.worker import Worker, func
from studio_harness import (
    RecordingOutbox,
    open_studio,
    start_engine,
    stop,
)

from bot.studio.core.core import Studio
from bot.studio.core.events import ChatRefused, Command, Recipient, Reply, Who
from bot.studio.jobs.tracking import MAX_SEND_FAILS, Tracker
from bot.studio.photos import reference_set
from sitter import contract as c
from sitter.queue import redis_settings

pytestmark = pytest.mark.studio_db  # redis_url: the studio tests' own db

WHO = Who("terminal", "ana", "ana-chat", "Ana")


async def _placed_order(studio: Studio) -> int:
    """A person with consent, four accepted photos and one queued order (no wizard)."""
    from bot.studio.core import words as w

    user = await studio.store.ensure_user(WHO.platform, WHO.user_id, WHO.name, WHO.chat_id)
    await studio.store.record_consent(user["id"], w.CONSENT_VERSION, "text")
    ref = await studio.store.current_set(user["id"])
    for i in range(4):
        rel, sha = studio.store.media.put(user["id"], "refs", f"photo {i}".encode(), "png")
        pid = await studio.store.add_photo(ref["id"], user["id"], sha, rel, f"{i}.png")
        await studio.store.update_photo(pid, "accepted", [], embedding=[0.1] * 128, backend="dlib")
    await studio.store.set_status(ref["id"], "ready")
    await studio.store.set_judged(ref["id"], reference_set.RULE)  # judged as the engine would
    await studio.store.save_session(user["id"], "idle", {})
    oid = await studio.store.create_order(
        user_id=user["id"],
        set_id=ref["id"],
        platform=WHO.platform,
        chat_id=WHO.chat_id,
        style="watercolor",
        choices={},
        prompt="a portrait",
        negative_prompt="",
        params={},
        seeds=[1, 2, 3, 4],
    )
    await studio.enqueue_order(oid)
    return oid


def _outbox(studio: Studio) -> RecordingOutbox:
    box = studio.outboxes["terminal"]
    assert isinstance(box, RecordingOutbox)
    return box


async def _serve_gpu_once(studio: Studio, answer: Any) -> None:
    """A real arq worker on the studio's gpu queue whose generate job returns ``answer``
    (what a newer or broken engine would send), run in burst mode."""

    async def generate(ctx: dict[str, Any], payload: Any) -> Any:
        return answer

    worker = Worker(
        functions=[func(generate, name=c.JOB_GENERATE)],
        queue_name=c.queue_name(studio.engine.prefix, c.QUEUE_GPU),
        redis_settings=redis_settings(studio.settings.redis_url),
        job_serializer=c.serialize,
        job_deserializer=c.deserialize,
        burst=True,
        poll_delay=0.01,
        handle_signals=False,
    )
    try:
        await worker.main()
    finally:
        await worker.close()


async def _ticks(studio: Studio, tracker: Tracker, until: Any, n: int = 200) -> None:
    for _ in range(n):
        if await until():
            return
        await tracker.tick()
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


@pytest.fixture
async def studio(redis_url: str, queue_prefix: str, data_dir: Path) -> Any:
    s = await open_studio(data_dir, redis_url, queue_prefix)
    yield s
    await s.aclose()


def _newer_result(job_id: str) -> dict[str, Any]:
    v = c.Variation(seed=1, image=b"png", likeness=0.9, face_found=True, passed=True)
    res = c.GenerateResult(
        generation_id=job_id, variations=[v], model="m", adapter="a", device="cpu", seconds=1
    ).model_dump()
    # A value this bot's contract cannot read (an unknown field alone is read tolerantly
    # and ignored: tests/test_contract_versions.py).
    res["variations"][0]["verdict"] = "sparkly"
    return res


@pytest.mark.parametrize("shape", ["unknown_value", "not_a_mapping", "zero_portraits"])
async def test_unreadable_or_empty_result_fails_the_order_clearly(
    studio: Studio, shape: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Item 10: a result from a newer engine (a value it cannot read), one that is not a
    mapping, or one with no portraits ends the order as a failure with a retry button,
    not 'queued' forever (today: a ContractError traceback every pass) or 'your 0 portraits'."""
    oid = await _placed_order(studio)
    order = await studio.store.order(oid)
    answer: Any = {
        "unknown_value": _newer_result(order["job_id"]),
        "not_a_mapping": ["portrait", 1],
        "zero_portraits": c.GenerateResult(
            generation_id=order["job_id"],
            variations=[],
            model="m",
            adapter="a",
            device="c",
            seconds=0,
        ).model_dump(),
    }[shape]
    await _serve_gpu_once(studio, answer)
    tracker = studio.tracker()

    async def told() -> bool:
        return any("failed" in t for t in _outbox(studio).texts())

    await _ticks(studio, tracker, told, n=50)
    row = await studio.store.order(oid)
    assert row["status"] == "failed" and row["delivered_at"]
    [failure] = [r for _, r in _outbox(studio).sent if "failed" in r.text]
    assert "Try again" in failure.buttons[0][0].label
    assert not any("your 0 portraits" in t for t in _outbox(studio).texts())
    assert not [r for r in caplog.records if r.exc_info]  # no traceback
    user = await studio.store.user(WHO.platform, WHO.user_id)
    assert await studio.store.orders_since(user["id"], "2000-01-01") == 0  # not counted
    assert not await studio.engine.redis.exists(f"arq:result:{order['job_id']}")


class CountingOutbox:
    """A chat platform that refuses every message (the person blocked the bot), as the
    adapters' outboxes say it (tests: test_telegram_adapter, test_robust_discord), or
    (``passing``) fails the way an outage does."""

    def __init__(self, passing: bool = False) -> None:
        self.tries = 0
        self.blocked = True
        self.passing = passing
        self.sent: list[Reply] = []

    async def send(self, to: Recipient, reply: Reply) -> None:
        self.tries += 1
        if self.blocked and self.passing:
            raise ConnectionError("502 Bad Gateway")
        if self.blocked:
            raise ChatRefused("Forbidden: bot was blocked by the user")
        self.sent.append(reply)


async def test_blocked_chat_backs_off_gives_up_and_gets_results_when_back(
    studio: Studio, redis_url: str
) -> None:
    """Item 13: a chat that blocked the bot is not tried every pass forever: tries are
    spaced out and stop after MAX_SEND_FAILS; the portraits stay stored and arrive when
    the person writes again."""
    box = CountingOutbox()
    studio.add_outbox("terminal", box)
    studio.tick_s = 0.001  # backoff grows from the tick: keeps the test short
    oid = await _placed_order(studio)
    order = await studio.store.order(oid)
    await _serve_gpu_once(studio, _readable(order["job_id"]))
    tracker = studio.tracker()
    await _ticks(studio, tracker, lambda: _done(studio, oid), n=50)
    before = box.tries
    for _ in range(400):
        await tracker.tick()
        await asyncio.sleep(0.002)
    assert 0 < box.tries - before <= MAX_SEND_FAILS  # 400 passes, a handful of tries
    assert (await studio.store.order(oid))["delivered_at"] is None
    assert await studio.store.variations(oid)  # the portraits are kept

    box.blocked = False
    await studio.handle(Command(WHO, "status"))  # they come back
    await tracker.tick()
    assert any("your 1 portraits" in r.text for r in box.sent)
    assert (await studio.store.order(oid))["status"] == "delivered"


async def test_a_platform_outage_never_gives_up_on_a_chat(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 1, finding 3: two hours of 502s (a pass every 0.5 s on a clock the test
    moves) are retried with growing pauses, never given up; when the platform answers
    again the portraits arrive within minutes, without the person writing."""
    import types

    import bot.studio.jobs.delivery as delivery
    import bot.studio.jobs.tracking as tracking

    clock = [1000.0]
    fake_time = types.SimpleNamespace(monotonic=lambda: clock[0])
    monkeypatch.setattr(tracking, "time", fake_time)
    monkeypatch.setattr(delivery, "time", fake_time)  # the outboxes' back-off clock
    box = CountingOutbox(passing=True)
    studio.add_outbox("terminal", box)
    oid = await _placed_order(studio)
    order = await studio.store.order(oid)
    await _serve_gpu_once(studio, _readable(order["job_id"]))
    tracker = studio.tracker()
    await _ticks(studio, tracker, lambda: _done(studio, oid), n=50)
    before = box.tries
    for _ in range(2 * 3600 * 2):  # two hours of passes
        await tracker.send(WHO.platform, WHO.chat_id, Reply("ping"))
        clock[0] += 0.5
    tries = box.tries - before
    assert MAX_SEND_FAILS < tries < 100, tries  # spaced out, and not given up
    box.blocked = False
    for _ in range(int(delivery.SEND_RETRY_CAP_S / 0.5) + 2):
        await tracker.tick()
        clock[0] += 0.5
        if (await studio.store.order(oid))["status"] == "delivered":
            break
    assert any("your 1 portraits" in r.text for r in box.sent)


async def _done(studio: Studio, oid: int) -> bool:
    return (await studio.store.order(oid))["status"] == "done"


def _readable(job_id: str) -> dict[str, Any]:
    res = _newer_result(job_id)
    del res["variations"][0]["verdict"]
    return res


async def test_cancel_racing_a_tracker_pass_is_not_requeued(studio: Studio) -> None:
    """Item 14: the pass read its list of orders, then the person cancelled: acting on
    the stale row re-queued the just-cancelled order (its job was gone, so 'lost')."""
    oid = await _placed_order(studio)
    tracker = studio.tracker()
    [stale] = await studio.store.orders_to_follow()  # the pass has read its list ...
    user = await studio.store.user(WHO.platform, WHO.user_id)
    reply = await studio.orders.cancel(user, oid)  # ... the person cancels ...
    assert "cancelled" in reply.text
    await tracker.follow_order(stale)  # ... the pass goes on with what it read
    row = await studio.store.order(oid)
    assert row["status"] == "cancelled" and row["enqueues"] == 1
    assert await studio.engine.queue_depth(c.QUEUE_GPU) == 0


async def test_killed_worker_hands_its_order_back_at_once(
    studio: Studio, redis_url: str, queue_prefix: str, data_dir: Path
) -> None:
    """Item 12: kill -9 the worker painting an order; with heartbeats the order goes
    back to the queue when the worker's claim expires (three beats), and another worker
    delivers it, long before the job timeout (60 s here, 600 s by default), and /status
    does not say "being painted" meanwhile."""
    beat = {"SITTER_WORKER_HEARTBEAT_S": "0.2", "STUDIO_ENGINE_JOB_TIMEOUT": "60"}
    studio.settings = studio.settings.model_copy(update={"worker_heartbeat_s": 0.2})
    slow = start_engine(
        redis_url,
        queue_prefix,
        data_dir / "e1",
        delay=120,
        log=data_dir / "e1.log",
        extra_env=beat,
    )
    try:
        oid = await _placed_order(studio)
        tracker = studio.tracker()
        order = await studio.store.order(oid)
        await _ticks(studio, tracker, lambda: _status(studio, oid, "running"), n=500)
        os.kill(slow.pid, signal.SIGKILL)
        slow.wait(10)
        killed = time.monotonic()
        # Once the dead worker's heartbeat has expired (0.6 s), /status never says "being
        # painted". Waiting for that, not timing the answer: a loaded machine can delay
        # an answer past any bound while it read the heartbeat in time.
        while await studio.engine.workers_alive(c.QUEUE_GPU):
            assert time.monotonic() - killed < 5
            await asyncio.sleep(0.05)
        [status] = await studio.handle(Command(WHO, "status"))
        assert "being painted" not in status.text, status.text
        fresh = start_engine(
            redis_url, queue_prefix, data_dir / "e2", log=data_dir / "e2.log", extra_env=beat
        )
        try:
            await _ticks(studio, tracker, lambda: _done_or_delivered(studio, oid), n=1500)
            handed_back = time.monotonic() - killed
        finally:
            stop(fresh)
        assert handed_back < 30, handed_back  # the job timeout is 60 s
        [status] = await studio.handle(Command(WHO, "status"))
        assert "being painted" not in status.text
        assert json.loads(order["seeds"]) == [1, 2, 3, 4]
    finally:
        stop(slow, kill=True)


async def _status(studio: Studio, oid: int, status: str) -> bool:
    return (await studio.store.order(oid))["status"] == status


async def _done_or_delivered(studio: Studio, oid: int) -> bool:
    return (await studio.store.order(oid))["status"] in ("done", "delivered")


@pytest.mark.parametrize("meanwhile", ["cancel", "forget"])
async def test_an_order_ended_while_its_result_is_read_stays_ended(
    studio: Studio, data_dir: Path, meanwhile: str
) -> None:
    """Review 1, finding 8: the job finished; while the tracker awaits its result the
    order is ended by another hand (a cancel, as the core writes it once the job is
    gone; or /forget, which deletes the person's rows and files). The tracker then
    stores nothing: no portrait rows, no files on disk, no "done", nothing delivered."""
    from bot.studio.rights import rights

    oid = await _placed_order(studio)
    order = await studio.store.order(oid)
    await _serve_gpu_once(studio, _readable(order["job_id"]))
    tracker = studio.tracker()
    real_result = studio.engine.result

    async def result_then_end(*args: Any, **kwargs: Any) -> Any:
        got = await real_result(*args, **kwargs)
        if meanwhile == "cancel":
            await studio.store.set_order(oid, status="cancelled")
        else:
            await rights.forget(studio.store, order["user_id"])
        return got

    studio.engine.result = result_then_end  # type: ignore[method-assign]
    await tracker.follow_order(order)
    studio.engine.result = real_result  # type: ignore[method-assign]
    await tracker.tick()
    row = await studio.store.order(oid)
    if meanwhile == "cancel":
        assert row["status"] == "cancelled" and not row["delivered_at"]
    else:
        assert row is None
    assert await studio.store.variations(oid) == []
    assert not [p for p in (data_dir / "media").rglob("*") if "results" in p.parts]
    assert not any("portraits" in t for t in _outbox(studio).texts())
