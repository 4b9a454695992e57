"""Figures for issue 13 ("nothing stuck"), on a real Redis, SQLite file and worker processes.

    python benchmarks/bench_robust.py [no-worker|hand-back|outage|all]

- no-worker: seconds from a 10-photo burst to its answer with no engine worker running
  (before heartbeats: 90 s per photo, about 15 minutes for the burst);
- hand-back: seconds from `kill -9` of the worker painting an order until the order is
  handed back to the queue, and until a second worker has finished it, with the
  default SITTER_WORKER_HEARTBEAT_S (before: the 600 s job timeout + 10 s);
- outage: log lines per minute from the studio's tracker while Redis is down (20
  orders followed, production Redis client with its ~5 s retries).

The hand-back figure uses tests/studio_engine.py (a real arq worker whose generation
can be slowed down) so that a kill lands mid-order.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


async def no_worker(url: str, tmp: Path) -> float:
    from studio_harness import Chat, astronaut_set, open_studio

    from bot.studio.core.events import Who

    studio = await open_studio(tmp / "nw", url, "bench-nw")
    try:
        chat = Chat(studio, Who("terminal", "b", "b", "B"))
        await chat.send("/start")
        await chat.press("I agree")
        photos = (astronaut_set() * 3)[:10]
        photos = [
            type(p)(f"{i}-{p.filename}", (p.data or b"") + bytes([i]), p.size)
            for i, p in enumerate(photos)
        ]
        t0 = time.perf_counter()
        [reply] = await chat.files(photos)
        took = time.perf_counter() - t0
        assert "engine is not running" in reply.text, reply.text
        return took
    finally:
        await studio.aclose()


async def hand_back(url: str, tmp: Path) -> tuple[float, float, float]:
    from studio_harness import open_studio, start_engine, stop
    from test_robust_orders import _placed_order

    from sitter.config import Settings

    heartbeat = Settings.model_fields["worker_heartbeat_s"].default
    studio = await open_studio(tmp / "hb", url, "bench-hb")
    slow = start_engine(url, "bench-hb", tmp / "e1", delay=600, log=tmp / "e1.log")
    fresh = None
    try:
        oid = await _placed_order(studio)
        tracker = studio.tracker()
        while (await studio.store.order(oid))["status"] != "running":
            await tracker.tick()
            await asyncio.sleep(0.05)
        job_id = (await studio.store.order(oid))["job_id"]
        os.kill(slow.pid, signal.SIGKILL)
        slow.wait(10)
        killed = time.perf_counter()
        fresh = start_engine(url, "bench-hb", tmp / "e2", log=tmp / "e2.log")
        handed = None
        while (await studio.store.order(oid))["status"] not in ("done", "delivered"):
            await tracker.tick()
            if handed is None and not await studio.engine.redis.exists(f"arq:in-progress:{job_id}"):
                handed = time.perf_counter() - killed
            await asyncio.sleep(0.05)
        return heartbeat, handed or 0.0, time.perf_counter() - killed
    finally:
        stop(slow, kill=True)
        if fresh is not None:
            stop(fresh)
        await studio.aclose()


async def outage(tmp: Path, seconds: float = 30.0) -> tuple[int, float]:
    from studio_harness import RecordingOutbox

    from bot.studio.core import words as w
    from bot.studio.core.core import Studio
    from sitter.config import load_settings

    port = _port()
    server = _redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    settings = load_settings(data_dir=tmp / "out", redis_url=url, queue_prefix="bench-out")
    studio = await Studio.open(settings, tick_s=0.5)
    studio.add_outbox("terminal", RecordingOutbox())
    lines: list[str] = []

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    try:
        for n in range(20):
            user = await studio.store.ensure_user("terminal", f"u{n}", "U", f"c{n}")
            await studio.store.record_consent(user["id"], w.CONSENT_VERSION, "t")
            ref = await studio.store.current_set(user["id"])
            rel, sha = studio.store.media.put(user["id"], "refs", f"p{n}".encode(), "png")
            pid = await studio.store.add_photo(ref["id"], user["id"], sha, rel, "p.png")
            await studio.store.update_photo(
                pid, "accepted", [], embedding=[0.1] * 128, backend="dlib"
            )
            oid = await studio.store.create_order(
                user_id=user["id"],
                set_id=ref["id"],
                platform="terminal",
                chat_id=f"c{n}",
                style="watercolor",
                choices={},
                prompt="p",
                negative_prompt="",
                params={},
                seeds=[1],
            )
            await studio.enqueue_order(oid)
        server.kill()
        server.wait(5)
        handler = Count()
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        task = asyncio.create_task(studio.tracker().run())
        await asyncio.sleep(seconds)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        root.removeHandler(handler)
        return len(lines), len(lines) * 60.0 / seconds
    finally:
        server.kill()
        await studio.aclose()


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    if shutil.which("redis-server") is None:
        raise SystemExit("needs redis-server")
    logging.basicConfig(level=logging.WARNING)
    port = _port()
    server = _redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            if which in ("no-worker", "all"):
                took = asyncio.run(no_worker(url, tmp))
                print(f"no worker: a 10-photo burst answered in {took:.3f} s (before: ~900 s)")
            if which in ("hand-back", "all"):
                beat, handed, done = asyncio.run(hand_back(url, tmp))
                print(
                    f"killed worker (heartbeat {beat:g} s): order handed back after "
                    f"{handed:.1f} s, finished by another worker after {done:.1f} s "
                    "(before: 610 s)"
                )
            if which in ("outage", "all"):
                n, per_min = asyncio.run(outage(tmp))
                print(f"Redis outage: {n} log lines in 30 s = {per_min:.0f} per minute, 20 orders")
    finally:
        server.kill()


if __name__ == "__main__":
    main()
