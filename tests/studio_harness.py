"""Shared pieces of the studio tests: an engine worker process, a recording outbox,
test photos, and a driver that presses buttons by label.

A pytest plugin (tests/conftest.py lists it in ``pytest_plugins``): its fixtures are
there for every test module without an import. ``engine``/``studio``: the stand-in
worker process on real Redis; ``real_engine``/``real_studio``: the real worker;
``fake_engine``/``fake_studio``: tests/fake_engine.py in memory, no Redis, no process.
A module on the stand-in or real worker marks itself ``pytestmark =
pytest.mark.studio_db`` for its own Redis database (see ``studio_db_url``).
"""

from __future__ import annotations

import asyncio
import functools
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fake_engine import FakeEngine
from PIL import Image, ImageEnhance, ImageOps

from bot.studio.core.core import Studio
from bot.studio.core.events import Command, Files, IncomingFile, Press, Recipient, Reply, Text, Who
from sitter.config import load_settings

ROOT = Path(__file__).resolve().parents[1]


def real_engine_available() -> bool:
    """The real worker (tiny model, dlib), once the engine's worker and analysis exist."""
    return all((ROOT / "engine" / f).is_file() for f in ("worker.py", "analysis.py"))


def engine_env(redis_url: str, prefix: str, data_dir: Path, delay: float = 0.0) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SITTER_REDIS_URL=redis_url,
        SITTER_QUEUE_PREFIX=prefix,
        SITTER_DATA_DIR=str(data_dir),
        SITTER_MODEL=os.environ.get("STUDIO_TEST_MODEL", "tiny"),  # tiny-klein: test_klein_flow
        SITTER_FACE_BACKEND="dlib",
        SITTER_POLL_DELAY_S="0.01",
        STUDIO_ENGINE_DELAY=str(delay),
        PYTHONPATH=str(ROOT),
    )
    return env


def start_engine(
    redis_url: str,
    prefix: str,
    data_dir: Path,
    delay: float = 0.0,
    log: Path | None = None,
    kind: str = "stand-in",
    *,
    wait: bool = True,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """An engine worker process.

    kind "stand-in": tests/studio_engine.py (dlib analysis, Pillow images; can be slowed
    down with ``delay``). "real": ``sitter worker`` with the tiny model and dlib.
    "mixed": the real worker on the gpu queue (generate, upscale) beside the stand-in
    on the fast queue (analysis, set check, label), for when the engine has no photo
    analysis yet. STUDIO_TEST_ENGINE overrides the kind.
    """
    kind = os.environ.get("STUDIO_TEST_ENGINE", kind)
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    env = engine_env(redis_url, prefix, data_dir, delay)
    env.update(extra_env or {})
    stand_in = [sys.executable, str(ROOT / "tests" / "studio_engine.py")]
    real = [sys.executable, "-m", "cli", "worker"]
    if delay or kind == "stand-in":
        proc = subprocess.Popen(stand_in, env=env, stdout=out, stderr=out, cwd=ROOT)
    elif kind == "mixed":
        env["STUDIO_ENGINE_QUEUES"] = "fast"
        fast = subprocess.Popen(stand_in, env=env, stdout=out, stderr=out, cwd=ROOT)
        gpu = subprocess.Popen(
            [*real, "--queues", "gpu"], env=env, stdout=out, stderr=out, cwd=ROOT
        )
        proc = _Pair(fast, gpu)  # type: ignore[assignment]
    else:
        proc = subprocess.Popen(real, env=env, stdout=out, stderr=out, cwd=ROOT)
    if wait:
        wait_for_worker(redis_url, prefix, proc)
    return proc


def wait_for_worker(redis_url: str, prefix: str, proc: Any = None, timeout: float = 90.0) -> None:
    """Until a worker's heartbeat is in Redis (loading or serving), as a person would
    find it a moment after `sitter run`: the studio waits for a worker that is coming
    and says at once that none is running otherwise."""
    import time

    import redis

    client = redis.Redis.from_url(redis_url)
    end = time.monotonic() + timeout
    try:
        while not list(client.scan_iter(match=f"{prefix}:worker:*", count=100)):
            if proc is not None and proc.poll() is not None:
                raise AssertionError("the engine worker exited before its first heartbeat")
            if time.monotonic() > end:
                raise AssertionError(f"no worker heartbeat under {prefix} in {timeout:.0f}s")
            time.sleep(0.05)
    finally:
        client.close()


def best_engine() -> str:
    """The most real engine this checkout has."""
    if real_engine_available():
        return "real"
    return "mixed" if (ROOT / "engine" / "worker.py").is_file() else "stand-in"


class _Pair:
    """Two worker processes stopped together."""

    def __init__(self, *procs: subprocess.Popen):
        self.procs = procs

    def poll(self) -> int | None:
        return None if any(p.poll() is None for p in self.procs) else 0

    def kill(self) -> None:
        for p in self.procs:
            p.kill()

    def terminate(self) -> None:
        for p in self.procs:
            p.terminate()

    def wait(self, timeout: float | None = None) -> int:
        for p in self.procs:
            p.wait(timeout)
        return 0


def stop(proc: subprocess.Popen, kill: bool = False) -> None:
    if proc.poll() is None:
        proc.kill() if kill else proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class RecordingOutbox:
    """Stands in for a chat platform's servers: records what the core sends."""

    sent: list[tuple[Recipient, Reply]] = field(default_factory=list)
    fail: bool = False

    async def send(self, to: Recipient, reply: Reply) -> None:
        if self.fail:
            raise ConnectionError("platform unreachable")
        self.sent.append((to, reply))

    def texts(self) -> list[str]:
        return [r.text for _, r in self.sent]


# --- photos ------------------------------------------------------------------------------
def png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def jpeg(im: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def astronaut_set() -> list[IncomingFile]:
    """Four different photos of one person, from scikit-image's astronaut (CC0)."""
    return [IncomingFile(name, data, len(data)) for name, data in _astronaut_variants()]


@functools.cache
def _astronaut_variants() -> tuple[tuple[str, bytes], ...]:
    from skimage import data

    # Cropped to her head: the full picture has a second face-like patch for dlib. Each
    # is framed differently: one picture mirrored, brightened or re-sized is the same
    # picture (engine/near_duplicate.py) and would count once.
    full = Image.fromarray(data.astronaut())
    im = full.crop((60, 0, 412, 352))
    return (
        ("astronaut.png", png(im)),
        ("mirror.jpg", jpeg(ImageOps.mirror(full.crop((20, 0, 380, 360))))),
        ("brighter.jpg", jpeg(ImageEnhance.Brightness(full.crop((80, 0, 400, 400))).enhance(1.08))),
        ("closer.jpg", jpeg(im.crop((30, 20, 322, 312)).resize((400, 400)))),
    )


def incoming(path: Path) -> IncomingFile:
    data = path.read_bytes()
    return IncomingFile(f"{path.parent.name}/{path.name}", data, len(data))


# --- a driver ------------------------------------------------------------------------------
class Chat:
    """One person talking to the studio; remembers the last buttons shown."""

    def __init__(self, studio: Studio, who: Who):
        self.studio = studio
        self.who = who
        self.last: list[Reply] = []

    async def send(self, event_or_text: object) -> list[Reply]:
        ev = event_or_text
        if isinstance(ev, str):
            ev = Command(self.who, ev[1:]) if ev.startswith("/") else Text(self.who, ev)
        self.last = await self.studio.handle(ev)  # type: ignore[arg-type]
        return self.last

    async def files(self, files: list[IncomingFile]) -> list[Reply]:
        return await self.send(Files(self.who, tuple(files)))

    def button(self, label: str, replies: list[Reply] | None = None) -> str:
        for r in replies or self.last:
            for row in r.buttons:
                for btn in row:
                    if btn.label == label or btn.label.startswith(label):
                        return btn.data
        shown = [btn.label for r in (replies or self.last) for row in r.buttons for btn in row]
        raise AssertionError(f"no button {label!r}; shown: {shown}")

    async def press(self, label: str, replies: list[Reply] | None = None) -> list[Reply]:
        return await self.send(Press(self.who, self.button(label, replies)))

    def text(self) -> str:
        return "\n".join(r.text for r in self.last)


async def until(
    studio: Studio, check: Callable[[], bool], timeout: float = 30.0, what: str = ""
) -> None:
    """Run the core's background passes until ``check()`` holds."""

    tracker = studio.tracker()
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what or check}")
        await tracker.tick()
        await asyncio.sleep(0.05)


# --- fixtures (a plugin: see the module docstring) ------------------------------------------
@pytest.fixture(name="engine")
def engine_fixture(redis_url: str, queue_prefix: str, data_dir: Path) -> Iterator[subprocess.Popen]:
    """The stand-in engine: fast, and enough to test the core's own behaviour."""
    proc = start_engine(redis_url, queue_prefix, data_dir / "engine", log=data_dir / "engine.log")
    yield proc
    stop(proc)


@pytest.fixture(name="real_engine")
def real_engine_fixture(
    redis_url: str, queue_prefix: str, data_dir: Path
) -> Iterator[subprocess.Popen]:
    """The real engine worker (tiny model, dlib) as far as this checkout has it."""
    proc = start_engine(
        redis_url,
        queue_prefix,
        data_dir / "engine",
        log=data_dir / "engine.log",
        kind=best_engine(),
    )
    yield proc
    stop(proc)


async def open_studio(settings_dir: Path, redis_url: str, prefix: str) -> Studio:
    settings = load_settings(
        data_dir=settings_dir, redis_url=redis_url, queue_prefix=prefix, daily_quota=12
    )
    s = await Studio.open(settings, tick_s=0.05, analyze_timeout_s=120)
    s.add_outbox("terminal", RecordingOutbox())
    return s


@pytest.fixture(name="studio")
async def studio_fixture(redis_url, queue_prefix, data_dir, engine) -> AsyncIterator[Studio]:
    s = await open_studio(data_dir, redis_url, queue_prefix)
    yield s
    await s.aclose()


@pytest.fixture(name="real_studio")
async def real_studio_fixture(
    redis_url, queue_prefix, data_dir, real_engine
) -> AsyncIterator[Studio]:
    s = await open_studio(data_dir, redis_url, queue_prefix)
    yield s
    await s.aclose()


@pytest.fixture(name="fake_engine")
def fake_engine_fixture() -> FakeEngine:
    """The in-memory engine (tests/fake_engine.py); the astronaut set shows one person."""
    fake = FakeEngine()
    fake.show(astronaut_set(), "astronaut")
    return fake


@pytest.fixture(name="fake_studio")
async def fake_studio_fixture(data_dir: Path, fake_engine: FakeEngine) -> AsyncIterator[Studio]:
    """A Studio on the fake engine and a real SQLite file, with no Redis: its URL
    points at a port where nothing answers, so any use of Redis fails the test."""
    settings = load_settings(
        data_dir=data_dir, redis_url="redis://127.0.0.1:1/0", queue_prefix="fake", daily_quota=12
    )
    s = await Studio.open(settings, engine=fake_engine, tick_s=0.05, analyze_timeout_s=5)
    s.add_outbox("terminal", RecordingOutbox())
    yield s
    await s.aclose()


# --- the terminal adapter as a process ---------------------------------------------------------
class TerminalProc:
    """``sitter chat`` in a subprocess, driven through its stdin and read from its stdout."""

    def __init__(self, redis_url: str, prefix: str, data_dir: Path):
        import threading

        env = engine_env(redis_url, prefix, data_dir)
        env["USER"] = "tester"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli",
                "chat",
                "--no-worker",
                "--out",
                str(data_dir / "out"),
            ],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.lines: list[str] = []
        self.cursor = 0
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait_for(self, needle: str, timeout: float = 40.0) -> str:
        """The next line (after the last one waited for) containing ``needle``."""
        import time

        end = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(self.cursor, len(self.lines)):
                    if needle in self.lines[i]:
                        self.cursor = i + 1
                        return self.lines[i]
                left = end - time.monotonic()
                if left <= 0:
                    tail = "\n".join(self.lines[-25:])
                    raise AssertionError(f"no line with {needle!r}; last lines:\n{tail}")
                self._cond.wait(min(left, 0.2))

    def press(self, label: str, timeout: float = 40.0) -> None:
        """Type the number of the next button shown with this label (after the last match)."""
        import re
        import time

        pattern = re.compile(r"\[([a-z]*\d+)\] " + re.escape(label))
        end = time.monotonic() + timeout
        with self._cond:
            while time.monotonic() < end:
                for i in range(max(0, self.cursor - 1), len(self.lines)):
                    m = pattern.search(self.lines[i])
                    if m:
                        self.cursor = i + 1
                        self.send(m.group(1))
                        return
                self._cond.wait(0.2)
        tail = "\n".join(self.lines[-25:])
        raise AssertionError(f"no button {label!r} on screen; last lines:\n{tail}")

    def count(self, needle: str) -> int:
        with self._cond:
            return sum(needle in line for line in self.lines)

    def kill(self) -> None:
        stop(self.proc, kill=True)

    def quit(self) -> int:
        self.send("/quit")
        return self.proc.wait(20)


def photo_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in astronaut_set():
        (folder / f.filename).write_bytes(f.data or b"")
    return folder


STUDIO_DB = 12


_flushed: set[str] = set()


def studio_db_url(redis_server: str) -> str:
    """A Redis database for the studio tests alone, flushed once per session: the
    ``redis_url`` of a module marked ``studio_db`` (tests/conftest.py).

    conftest's ``redis_url`` flushes db 9 before every test; with several suites
    running at once on one machine that wipes other tests' queued jobs mid-flight.
    These tests need no flush per test: queue names carry a unique prefix and job
    ids a random per-database id.
    """
    import redis

    if redis_server.startswith("unix://"):
        url = redis_server.replace("db=0", f"db={STUDIO_DB}")
    else:
        url = redis_server.rsplit("/", 1)[0] + f"/{STUDIO_DB}"
    if url not in _flushed:
        client = redis.Redis.from_url(url)
        client.flushdb()
        client.close()
        _flushed.add(url)
    return url
