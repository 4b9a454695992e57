"""The bot's queue client survives a Redis restart (persistence on, as in compose)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from sitter import contract as c
from sitter.queue import EngineClient, connect

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="needs a redis-server binary")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(port: int, folder: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        subprocess.run(["sleep", "0.05"], check=True)
    proc.kill()
    raise RuntimeError("redis-server did not start")


async def test_client_rides_out_a_restart(tmp_path: Path, queue_prefix: str) -> None:
    port = _free_port()
    server = _start(port, tmp_path)
    try:
        redis = await connect(f"redis://127.0.0.1:{port}/0", queue_prefix)
        client = EngineClient(redis, queue_prefix)
        await client.enqueue(c.JOB_LABEL, c.LabelRequest(image=b"a"), job_id="before")
        server.kill()
        server.wait()
        # Redis comes back a moment later; the next command waits for it instead of failing.
        restart = asyncio.get_running_loop().run_in_executor(
            None, lambda: (subprocess.run(["sleep", "0.5"], check=True), _start(port, tmp_path))[1]
        )
        await client.enqueue(c.JOB_LABEL, c.LabelRequest(image=b"b"), job_id="after")
        server = await restart
        # The job queued before the crash is still there (append-only file).
        assert (await client.state(c.JOB_LABEL, "before")).status == "queued"
        assert (await client.state(c.JOB_LABEL, "after")).position == 1
        await redis.aclose()
    finally:
        server.kill()
        server.wait()


async def test_a_bare_worker_waits_for_redis_and_carries_on(
    tmp_path: Path,
    queue_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 22, item 12: `sitter worker` exited when Redis restarted (8 tracebacks);
    without compose nothing started it again. Now it waits for Redis and carries on.

    The worker's client retries for ~16 s by itself (sitter/queue.py); here 3 quick
    tries, so a 3 s outage outlasts them as a longer restart does in production."""
    import logging

    from arq.connections import RedisSettings
    from redis.asyncio.retry import Retry
    from redis.backoff import ConstantBackoff

    from engine import worker as engine_worker
    from engine.runtime import Runtime
    from sitter.config import load_settings

    def few_retries(url: str) -> RedisSettings:
        rs = RedisSettings.from_dsn(url)
        rs.retry = Retry(ConstantBackoff(0.1), 3)
        return rs

    monkeypatch.setattr(engine_worker, "redis_settings", few_retries)
    port = _free_port()
    server = _start(port, tmp_path)
    url = f"redis://127.0.0.1:{port}/0"
    settings = load_settings(
        face_backend="dlib",
        data_dir=tmp_path / "data",
        redis_url=url,
        queue_prefix=queue_prefix,
        poll_delay_s=0.01,
    )
    runtime = Runtime(settings).load(("faces",))
    stop = asyncio.Event()
    serving = asyncio.create_task(
        engine_worker.run_workers(settings, (c.QUEUE_FAST,), runtime=runtime, stop=stop)
    )
    redis = await connect(url, queue_prefix)
    client = EngineClient(redis, queue_prefix, poll_delay=0.01)
    try:
        job = await client.enqueue(c.JOB_CHECK_SET, c.CheckSetRequest(embeddings=[]))
        assert isinstance(await client.result(c.JOB_CHECK_SET, job, timeout=20), c.CheckSetResult)
        with caplog.at_level(logging.INFO):
            server.kill()
            server.wait()
            await asyncio.sleep(3.0)  # Redis is down longer than the client retries
            assert not serving.done(), "the worker exited while Redis was down"
            server = _start(port, tmp_path)
            job = await client.enqueue(c.JOB_CHECK_SET, c.CheckSetRequest(embeddings=[]))
            result = await client.result(c.JOB_CHECK_SET, job, timeout=20)
            assert isinstance(result, c.CheckSetResult)  # served by the same worker
            for _ in range(100):  # the end of the outage is said on a later poll
                if any("outage over" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.05)
        assert not serving.done()
        lines = [r.getMessage() for r in caplog.records if r.name == "sitter.outage"]
        assert len([m for m in lines if "outage: Redis is unreachable" in m]) == 1, lines
        assert len([m for m in lines if "outage over: Redis is back" in m]) == 1, lines
        assert [r for r in caplog.records if r.exc_info] == []  # no traceback
    finally:
        stop.set()
        await asyncio.wait_for(serving, 30)
        await redis.aclose()
        server.kill()
        server.wait()
