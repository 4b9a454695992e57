"""Following orders at scale (issue 20): counts, not timings.

Real Redis, the real arq queue client, a real SQLite store; the worker is a real arq
worker in this process (tests/studio_engine.py's generate) where one is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from arq.worker import Worker, func
from redis.asyncio.client import Pipeline, Redis
from studio_engine import generate
from studio_harness import RecordingOutbox
from test_robust_orders import WHO, _placed_order

from bot.store.codes import Shown
from bot.studio.core.core import Studio
from bot.studio.jobs import words_failures as wf
from bot.studio.jobs.words_progress import progress_words
from sitter import contract as c
from sitter import events
from sitter.config import load_settings
from sitter.heartbeat import Heartbeat
from sitter.queue import redis_settings


@pytest.fixture
async def studio(data_dir: Path, redis_url: str, queue_prefix: str) -> AsyncIterator[Studio]:
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    s = await Studio.open(settings, tick_s=0.05)
    s.add_outbox("terminal", RecordingOutbox())
    yield s
    await s.aclose()


class RoundTrips:
    """Redis round trips (a pipeline counts once) while ``on``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.n, self.on = 0, False
        self.seen: list[str] = []
        plain, piped = Redis.execute_command, Pipeline.execute
        counter = self

        async def execute_command(self: Any, *args: Any, **kw: Any) -> Any:
            if counter.on and not isinstance(self, Pipeline):
                counter.n += 1
                counter.seen.append(str(args[0]))
            return await plain(self, *args, **kw)

        async def execute(self: Any, *args: Any, **kw: Any) -> Any:
            if counter.on and self.command_stack:
                counter.n += 1
                counter.seen.append(f"pipeline of {len(self.command_stack)}")
            return await piped(self, *args, **kw)

        monkeypatch.setattr(Redis, "execute_command", execute_command)
        monkeypatch.setattr(Pipeline, "execute", execute)


async def _queue_orders(studio: Studio, n: int) -> list[int]:
    """``n`` queued orders with their jobs in Redis (no worker takes them)."""
    store, engine = studio.store, studio.engine
    user = await store.ensure_user("terminal", "many", "Many", "many")
    ids = []
    async with store.tx():
        for i in range(n):
            oid = await store.create_order(
                user_id=user["id"], set_id=None, platform="terminal", chat_id=f"c{i}",
                style="watercolor", choices={}, prompt="p", negative_prompt="", params={},
                seeds=[1, 2, 3, 4],
            )  # fmt: skip
            await store.set_order(oid, job_id=f"{engine.prefix}-many-o{oid}", enqueues=1)
            ids.append(oid)
    vector = [0.1] * 128
    ref = c.Reference(embedding=c.Embedding(backend="dlib", vector=vector))
    req = c.GenerateRequest(generation_id="g", prompt="p", seeds=[1, 2, 3, 4], references=[ref])
    for oid in ids:
        await engine.enqueue(c.JOB_GENERATE, req, job_id=f"{engine.prefix}-many-o{oid}")
    return ids


async def test_a_pass_over_2000_queued_orders_costs_a_few_redis_round_trips(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: about ten round trips per queued order per pass (two for its state, a
    SCAN sweep for the worker heartbeats), so 2,000 queued orders cost ~20,000 and the
    sweeps grew with the square of the queue. Now one read of the queue, one of the
    workers: the same handful at 20 and at 2,000."""
    beat = Heartbeat(studio.engine.redis, studio.engine.prefix, [c.QUEUE_GPU], 60.0)
    await beat.serving()  # a worker is there (busy elsewhere): nothing takes these jobs
    trips = RoundTrips(monkeypatch)
    tracker = studio.tracker()
    tracker.pacer.every_s = 0.0  # every order may be edited on every pass
    counts = {}
    for total in (20, 2000):
        await _queue_orders(studio, total - ((counts and 20) or 0))
        await tracker.tick()  # the first pass may write first texts
        trips.n, trips.on, trips.seen = 0, True, []
        await tracker.tick()
        trips.on = False
        counts[total] = trips.n
    # The queue's order, the head's running flags, the live workers and their keys.
    assert counts[2000] == counts[20] == 4, (counts, trips.seen)
    # ... and every order still has its own place in the queue to show (paced).
    orders = await studio.store.orders_to_follow()
    assert len(orders) == 2000
    last = orders[-1]["id"]
    row = await studio.store.order(last)  # what it shows: a code, worded when sent
    said = Shown.read(row["progress_code"], row["progress_params"])
    shown = tracker.edits.text(last) or (progress_words(last, said) if said else "")
    assert "position 2000 (1999 ahead of you)" in shown, shown


async def _worker(redis_url: str, prefix: str, announce: bool) -> Worker:
    w = Worker(
        functions=[func(generate, name=c.JOB_GENERATE)],
        queue_name=c.queue_name(prefix, c.QUEUE_GPU),
        redis_settings=redis_settings(redis_url),
        job_serializer=c.serialize,
        job_deserializer=c.deserialize,
        poll_delay=0.01,
        handle_signals=False,
        burst=False,
    )
    if announce:
        events.attach(w, prefix)
    return w


@contextlib.asynccontextmanager
async def _running(*aws: Any) -> AsyncIterator[None]:
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        yield
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t


async def _delivered(studio: Studio, oid: int, within_s: float) -> bool:
    for _ in range(int(within_s / 0.02)):
        row = await studio.store.order(oid)
        if row["delivered_at"]:
            return True
        await asyncio.sleep(0.02)
    return False


async def test_a_finished_order_is_delivered_on_its_event_not_the_next_pass(
    studio: Studio, redis_url: str, queue_prefix: str
) -> None:
    """The worker announces "done"; the bot delivers at once, though its safety pass
    would not come for a minute."""
    studio.tick_s = 6.0  # safety pass: every 60 s with events
    oid = await _placed_order(studio)
    worker = await _worker(redis_url, queue_prefix, announce=True)
    async with _running(studio.run_background()):
        await asyncio.sleep(0.3)  # the first pass ran; the next is a minute away
        async with _running(worker.async_run()):
            assert await _delivered(studio, oid, 10.0)
    box: RecordingOutbox = studio.outboxes["terminal"]  # type: ignore[assignment]
    assert any(r.images for _, r in box.sent)
    await worker.close()


async def test_a_lost_completion_event_is_caught_by_the_safety_pass(
    studio: Studio, redis_url: str, queue_prefix: str
) -> None:
    """A worker that announces nothing (an event lost, a bot restarted meanwhile): the
    order is still delivered, by the slow safety pass."""
    studio.tick_s = 0.1  # safety pass every second with events
    oid = await _placed_order(studio)
    worker = await _worker(redis_url, queue_prefix, announce=False)
    async with _running(studio.run_background(), worker.async_run()):
        assert await _delivered(studio, oid, 15.0)
    key = events.events_key(queue_prefix)
    assert not await studio.engine.redis.xlen(key)  # really no event came
    await worker.close()


async def test_the_enqueue_window_is_closed(
    studio: Studio, caplog: pytest.LogCaptureFixture
) -> None:
    """The placing of an order writes its job id, then enqueues; a pass that lands in
    between saw the job "gone" and enqueued it again (a warning, one of three tries)."""
    oid = await _placed_order(studio)
    order = await studio.store.order(oid)
    job_id = order["job_id"]
    await studio.engine.drop([job_id])  # as between the row's job id and the enqueue
    user = await studio.store.user(WHO.platform, WHO.user_id)
    lock = studio.services.locks.setdefault(user["id"], asyncio.Lock())
    tracker = studio.tracker()
    with caplog.at_level(logging.WARNING, logger="bot.studio.jobs.tracking"):
        async with lock:  # the placing holds the person's lock ...
            passing = asyncio.ensure_future(tracker.tick())  # ... a pass lands here
            await asyncio.sleep(0.3)
            await studio.orders.enqueue(oid)  # ... and the placing enqueues
        await passing
    row = await studio.store.order(oid)
    assert row["job_id"] == job_id and row["enqueues"] == 2  # the placing's own, no more
    assert (await studio.engine.state(c.JOB_GENERATE, job_id)).status == "queued"
    assert not [r for r in caplog.records if "gone from Redis" in r.getMessage()]


async def test_a_pack_cancelled_while_a_look_paints_stops_it_and_counts_it(
    studio: Studio,
) -> None:
    """Issue 22 item 10: the painting look kept painting (its job stayed wanted), its
    result stayed in Redis for days (face crops, portraits), and cost nothing against
    the quota. Now its job is dropped (the worker stops at its next step, as for
    /forget), whatever it leaves is deleted by the next pass, and its images count."""
    from bot.store.pack_orders import NewLook

    store, engine = studio.store, studio.engine
    user = await store.ensure_user(WHO.platform, WHO.user_id, WHO.name, WHO.chat_id)
    look = {"style": "watercolor", "choices": {}, "prompt": "p", "negative_prompt": ""}
    oid = await store.create_pack_order(
        user_id=user["id"], set_id=None, platform=WHO.platform, chat_id=WHO.chat_id,
        pack="avatar", choices={"pack": "avatar"},
        looks=[NewLook(name=n, params={}, seeds=[1, 2], **look) for n in ("A", "B")],
    )  # fmt: skip
    painting, waiting = await store.looks(oid)
    ref = c.Reference(embedding=c.Embedding(backend="dlib", vector=[0.1] * 128))
    req = c.GenerateRequest(generation_id="g", prompt="p", seeds=[1, 2], references=[ref])
    for row, n in ((painting, 1), (waiting, 2)):
        job_id = f"{engine.prefix}-pack-l{n}"
        await store.set_look(row["id"], job_id=job_id, enqueues=1)
        await engine.enqueue(c.JOB_GENERATE, req, job_id=job_id)
    redis = engine.redis
    await redis.set(f"arq:in-progress:{engine.prefix}-pack-l1", b"1")  # a worker paints it
    await store.set_look(painting["id"], status="running")
    order = await store.order(oid)
    assert await studio.orders.images_today(user) == 4

    reply = await studio.orders.cancel(user, oid)
    assert "stopped; its 2 images count" in reply.text, reply.text
    job = f"{engine.prefix}-pack-l1"
    assert not await redis.exists(f"arq:job:{job}")  # dropped: the worker stops painting
    assert [x["status"] for x in await store.looks(oid)] == ["stopped", "cancelled"]
    assert await studio.orders.images_today(user) == 2  # the painted look counts
    # The worker lets go just after and writes its result anyway: the pass deletes it.
    await redis.delete(f"arq:in-progress:{job}")
    await redis.set(f"arq:result:{job}", b"x" * 1000)
    tracker = studio.tracker()
    await tracker.tick()
    assert not await redis.exists(f"arq:result:{job}")
    assert (await store.looks(oid))[0]["job_id"] is None
    assert order["status"] == "queued"


async def test_old_rows_with_sentences_become_codes_and_are_shown_in_words(
    tmp_path: Path,
) -> None:
    """A database from before codes (its failures stored as sentences) is migrated: each
    sentence becomes its code, and the message made from the code says the same words."""
    import aiosqlite

    from bot.store.migrate import MIGRATIONS_DIR, migrate
    from bot.studio.jobs.results import failure_reply
    from bot.studio.portrait.followups import final_words

    older = tmp_path / "migrations"
    older.mkdir()
    # Every migration before job_codes (by number: later ones may exist, and a gap in
    # the numbering would not be an older database).
    codes_at = int(next(MIGRATIONS_DIR.glob("*_job_codes.sql")).name.split("_", 1)[0])
    for p in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if int(p.name.split("_", 1)[0]) < codes_at:
            (older / p.name).write_text(p.read_text())
    db = await aiosqlite.connect(tmp_path / "old.db")
    db.row_factory = aiosqlite.Row
    await migrate(db, older)
    await db.execute("INSERT INTO users (platform, platform_user_id) VALUES ('terminal', 'x')")
    sentences = {
        "the studio's engine ran out of memory": "out_of_memory",
        "the engine lost the job several times": "lost_several_times",
        "a reference photo shows a face that is protected (its owner asked not to have it "
        "used), so nothing was painted; /photos to send others": "protected",
        "CUDA error in /opt/sitter/engine/render.py:42": "unknown",  # an old engine's own
        "removed by a moderator": "removed_by_moderator",  # moderation/reach.py's
    }
    for n, sentence in enumerate(sentences, 1):
        await db.execute(
            "INSERT INTO orders (id, user_id, platform, chat_id, style, choices, prompt, "
            "negative_prompt, params, seeds, status, error) VALUES "
            "(?, 1, 'terminal', 'c', 's', '{}', 'p', '', '{}', '[1]', 'failed', ?)",
            (n, sentence),
        )
    await db.commit()
    await migrate(db)  # this version's migrations
    rows = {r["id"]: r["error"] async for r in await db.execute("SELECT id, error FROM orders")}
    assert list(rows.values()) == list(sentences.values())
    for n, sentence in enumerate(sentences, 1):
        text = failure_reply({"id": n, "error": rows[n]}).text
        shown = sentence if rows[n] != "unknown" else wf.failure_words("unknown")
        assert shown in text and "CUDA" not in text, text
    # A pack's look, a withheld copy and an avatar refusal keep what they meant.
    looks = {
        "the engine made no portraits": "no_portraits",
        "I withheld this copy of #3: it did not pass the safety check.": "copy_withheld",
        "I can't make an avatar of portrait #2: I can't find a face in it to centre an "
        "avatar on. Try a portrait with the whole face and some room around it (a "
        "head-and-shoulders one works best).": '{"code": "avatar_refused", "problem": "no_face"}',
        "That portrait was removed.": "portrait_removed",  # portrait/followups.py's
    }
    await db.close()
    db = await aiosqlite.connect(tmp_path / "old2.db")
    db.row_factory = aiosqlite.Row
    await migrate(db, older)
    await db.execute("INSERT INTO users (platform, platform_user_id) VALUES ('terminal', 'x')")
    await db.execute(
        "INSERT INTO orders (id, user_id, platform, chat_id, style, choices, prompt, "
        "negative_prompt, params, seeds, status) VALUES "
        "(1, 1, 'terminal', 'c', 's', '{}', 'p', '', '{}', '[1]', 'done')"
    )
    for n, sentence in enumerate(looks, 1):
        await db.execute(
            "INSERT INTO order_looks (order_id, user_id, idx, name, style, prompt, first, "
            "status, error) VALUES (1, 1, ?, 'L', 's', 'p', ?, 'failed', ?)",
            (n, n, sentence),
        )
    await db.commit()
    await migrate(db)
    got = [r["error"] async for r in await db.execute("SELECT error FROM order_looks ORDER BY idx")]
    await db.close()
    assert got == list(looks.values())
    vj = {"method": "refused"}
    assert final_words({**vj, "error": got[1]}, 3) == wf.copy_withheld(3)
    said = final_words({**vj, "error": got[2]}, 2)
    assert "I can't find a face in it to centre an avatar on" in said and "#2" in said
    assert final_words({**vj, "error": got[3]}, 2) == "that portrait was removed"


async def test_an_event_never_acts_on_the_pass_s_stale_snapshot(studio: Studio) -> None:
    """Found by bench_tracker at 10,000 queued: a "done" event handled while a pass ran
    used the state the pass had read before the job finished ("running"), so the
    results waited for the next safety pass (seconds). The event asks Redis itself."""
    from test_robust_orders import _readable, _serve_gpu_once

    from bot.studio.jobs.parts import Snapshot
    from sitter.engine_client import JobState
    from sitter.events import JobEvent, What

    oid = await _placed_order(studio)
    job_id = (await studio.store.order(oid))["job_id"]
    await _serve_gpu_once(studio, _readable(job_id))  # the job is done, its result stored
    tracker = studio.tracker()
    go = asyncio.Event()

    async def event_task() -> None:  # started before the pass, as run() starts it
        await go.wait()
        await tracker.on_event(JobEvent(job_id, What.DONE))

    task = asyncio.create_task(event_task())
    tracker.parts.snap = Snapshot(states={job_id: JobState("running")})  # the pass's read
    go.set()
    await task
    assert (await studio.store.order(oid))["delivered_at"]


async def test_an_event_read_that_keeps_failing_is_logged_once_and_the_pass_polls(
    studio: Studio, queue_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Review finding (issue 20): a read that fails with no outage behind it (here a
    real WRONGTYPE: the stream's key holds a string; a Redis without streams answers
    "unknown command XREAD" the same way) was retried silently for ever while the pass
    rested as if events came. Now: one logged error, the pass polls every tick, and a
    read that works again lets it rest."""
    tracker = studio.tracker()
    redis = studio.engine.redis
    key = events.events_key(queue_prefix)
    await redis.set(key, "not a stream")
    tracker.listening = True  # as run() starts it
    caplog.set_level(logging.INFO, logger="bot.studio.jobs.tracking")
    async with _running(tracker.listen()):
        for _ in range(100):
            if not tracker.listening:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)  # ten more failed reads at tick_s 0.05
        assert not tracker.listening and not tracker.events_come()
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and "job events" in errors[0].getMessage(), errors
        assert errors[0].exc_info and "WRONGTYPE" in str(errors[0].exc_info[1])
        await redis.delete(key)
        for _ in range(200):  # the read works again (the stream is empty)
            if tracker.listening:
                break
            await asyncio.sleep(0.02)
        assert tracker.listening and not tracker.events_come()
        await events.announce(redis, queue_prefix, "someone-elses-job", events.What.STARTED)
        for _ in range(200):
            if tracker.events_come():
                break
            await asyncio.sleep(0.02)
        assert tracker.listening and tracker.events_come()


async def test_the_pass_rests_long_only_while_events_come(studio: Studio) -> None:
    """Review finding (issue 20): the queue client always says its workers announce,
    so with workers older than the events (which announce nothing) the pass rested ten
    ticks between safety passes: results came ten times slower."""
    import time

    from bot.studio.jobs.tracking import SAFETY_TICKS

    studio.tick_s = 0.05
    tracker = studio.tracker()
    assert studio.engine.announces
    tracker.listening = True  # the event read works, but no event ever came

    async def rest() -> float:
        tracker._last_pass = time.monotonic()
        start = time.monotonic()
        await tracker._rest()
        return time.monotonic() - start

    assert await rest() < 0.05 * SAFETY_TICKS / 2  # one tick: the fast pass
    tracker._event_at = time.monotonic()  # an event came just now
    assert await rest() >= 0.05 * SAFETY_TICKS * 0.9  # the long rest


async def test_only_a_gpu_job_that_orders_wait_behind_moves_the_queue_positions(
    studio: Studio,
) -> None:
    """Review finding (issue 20): every job that started (a typed answer's screen, a
    photo check) made the tracker read and show every queue position again."""
    from sitter.events import JobEvent, What

    tracker = studio.tracker()
    [oid] = await _queue_orders(studio, 1)
    await tracker.tick()  # the pass: order #oid waits in the GPU queue
    assert [o["id"] for o in tracker._waiting] == [oid]
    for fast in ("screen-text-1", "analyze-2"):  # jobs the studio does not follow
        await tracker.on_event(JobEvent(fast, What.STARTED))
    assert not tracker.moved.is_set()
    order = await studio.store.order(oid)
    await tracker.on_event(JobEvent(order["job_id"], What.STARTED))
    assert tracker.moved.is_set()


async def test_a_failed_progress_edit_does_not_hold_back_the_chats_results(
    studio: Studio,
) -> None:
    """Review finding (issue 20): a progress edit that failed set the chat's backoff, so
    the results that came a moment later waited for it."""
    from bot.studio.core.events import Reply

    box: RecordingOutbox = studio.outboxes["terminal"]  # type: ignore[assignment]
    tracker = studio.tracker()
    box.fail = True
    assert not await tracker.send_edit("terminal", "c1", Reply(text="#1 at 10%"))
    assert not await tracker.send_edit("terminal", "c1", Reply(text="#1 at 20%"))
    box.fail = False
    assert await tracker.send("terminal", "c1", Reply(text="your portraits"))  # at once
    assert box.texts() == ["your portraits"]
    assert tracker.edits._send == tracker.send_edit  # the edits go out as edits
