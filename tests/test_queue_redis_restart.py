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
