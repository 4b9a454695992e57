"""Studio core figures: turn overhead, queue round trip, memory with 1,000 users mid-wizard.

    .venv/bin/python benchmarks/bench_core.py [--users 1000] [--redis redis://127.0.0.1:6379/13]

1. Core overhead per conversation turn, without the engine: Studio.handle on a
   real SQLite file for wizard turns (button presses and typed answers), median
   and p99 over all users' turns.
2. Queue round trip of an empty job through arq on the local Redis: enqueue,
   a worker process runs a no-op, the client gets the result; median over
   jobs, at the poll delay Sitter uses (SITTER_POLL_DELAY_S, default 0.05 s)
   and at arq's default 0.5 s for comparison.
3. RSS of this (bot) process after 1,000 users are mid-wizard.

Nothing here imports torch: the bot process is measured as it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


# --- a no-op worker (run as a subprocess) ---------------------------------------------------
async def noop(ctx: dict, payload: dict) -> dict:
    return {"ok": True}


def worker_main(redis_url: str, queue: str, poll_delay: float) -> None:
    from arq.worker import Worker

    from sitter import contract as c
    from sitter.queue import redis_settings

    w = Worker(
        functions=[noop],
        queue_name=queue,
        redis_settings=redis_settings(redis_url),
        job_serializer=c.serialize,
        job_deserializer=c.deserialize,
        poll_delay=poll_delay,
        handle_signals=True,
        keep_result=60,
    )
    w.run()


async def round_trips(redis_url: str, poll_delay: float, jobs: int) -> list[float]:
    from sitter import contract as c
    from sitter.queue import connect

    prefix = f"bench-{uuid.uuid4().hex[:6]}"
    queue = c.queue_name(prefix, c.QUEUE_FAST)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--worker", redis_url, queue, str(poll_delay), cwd=ROOT
    )
    redis = await connect(redis_url, prefix)
    try:
        # warm up: wait until the worker answers
        for _ in range(200):
            job = await redis.enqueue_job("noop", {}, _queue_name=queue)
            try:
                await job.result(timeout=0.5, poll_delay=poll_delay)
                break
            except TimeoutError:
                continue
        times = []
        for _ in range(jobs):
            t0 = time.perf_counter()
            job = await redis.enqueue_job("noop", {}, _queue_name=queue)
            await job.result(timeout=10, poll_delay=poll_delay)
            times.append(time.perf_counter() - t0)
            await asyncio.sleep(poll_delay * 0.37)  # land at varied points of the poll cycle
        return times
    finally:
        await redis.aclose()
        proc.terminate()
        await proc.wait()


# --- the core without an engine ------------------------------------------------------------
async def core_turns(users: int, redis_url: str) -> tuple[list[float], float, float]:
    from bot.studio.core.core import State, Studio
    from bot.studio.core.events import Command, Press, Text, Who
    from bot.studio.core.words import CONSENT_TEXT, CONSENT_VERSION
    from sitter.config import load_settings

    data = Path(tempfile.mkdtemp(prefix="bench-core-"))
    settings = load_settings(data_dir=data, redis_url=redis_url, queue_prefix="bench-core")
    before = rss_mib()
    studio = await Studio.open(settings)
    # Users who consented and whose photo set is ready (the engine's part, skipped here).
    for i in range(users):
        user = await studio.store.ensure_user("bench", str(i), f"user {i}", str(i))
        await studio.store.record_consent(user["id"], CONSENT_VERSION, CONSENT_TEXT)
        ref = await studio.store.current_set(user["id"])
        await studio.store.set_status(ref["id"], "ready")
        await studio.store.save_session(user["id"], State.IDLE.value, {})

    def button(replies, label: str) -> str:
        for r in replies:
            for row in r.buttons:
                for b in row:
                    if b.label.startswith(label):
                        return b.data
        raise KeyError(label)

    times: list[float] = []

    async def turn(event) -> list:
        t0 = time.perf_counter()
        replies = await studio.handle(event)
        times.append(time.perf_counter() - t0)
        return replies

    last: dict[int, list] = {}
    for i in range(users):  # /new -> style step
        who = Who("bench", str(i), str(i))
        last[i] = await turn(Command(who, "new"))
    for i in range(users):  # press a style
        who = Who("bench", str(i), str(i))
        last[i] = await turn(Press(who, button(last[i], "Watercolor")))
    for i in range(users):  # a preset attire
        who = Who("bench", str(i), str(i))
        last[i] = await turn(Press(who, button(last[i], "Knitwear")))
    for i in range(users):  # a typed setting: now at lighting, mid-wizard
        who = Who("bench", str(i), str(i))
        last[i] = await turn(Text(who, f"a quiet harbour at dawn #{i} 🌅"))
    after = rss_mib()
    await studio.aclose()
    return times, before, after


async def main(args: argparse.Namespace) -> None:
    from sitter.config import load_settings

    poll = load_settings().poll_delay_s
    print(f"Sitter core benchmark ({os.cpu_count()} CPUs, Python {sys.version.split()[0]})")

    times, before, after = await core_turns(args.users, args.redis)
    ms = [t * 1000 for t in times]
    print(f"\n1. core turn without the engine ({len(ms)} turns, {args.users} users, SQLite file):")
    print(
        f"   median {statistics.median(ms):.2f} ms   p99 {pct(ms, 99):.2f} ms   "
        f"max {max(ms):.1f} ms"
    )
    print(
        f"\n3. bot process RSS with {args.users} users mid-wizard: {after:.0f} MiB "
        f"(before opening the studio {before:.0f} MiB, +{after - before:.0f} MiB)"
    )

    print("\n2. arq round trip of an empty job (enqueue -> worker -> result), local Redis:")
    runs = ((poll, args.jobs), (0.01, args.jobs), (0.5, max(10, args.jobs // 5)))
    for delay, jobs in runs:
        rt = [t * 1000 for t in await round_trips(args.redis, delay, jobs)]
        chosen = {poll: "  <- Sitter's SITTER_POLL_DELAY_S", 0.5: "  (arq default)"}.get(delay, "")
        print(
            f"   poll delay {delay * 1000:.0f} ms (worker and client): median "
            f"{statistics.median(rt):.1f} ms, p90 {pct(rt, 90):.1f} ms over {jobs} jobs{chosen}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2], sys.argv[3], float(sys.argv[4]))
        sys.exit(0)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=100)
    p.add_argument(
        "--redis", default=os.environ.get("SITTER_BENCH_REDIS", "redis://127.0.0.1:6379/13")
    )
    asyncio.run(main(p.parse_args()))
