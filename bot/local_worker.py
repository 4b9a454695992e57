"""The engine worker process that ``sitter run`` and ``sitter chat`` start beside the
studio on one machine: started, watched (started again when it dies) and stopped."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator

from sitter.config import TRY_OFFLINE, Settings

CONFIG_REFUSED = 2  # `sitter worker`'s exit code for a configuration it refuses (cli/main.py)
# The engine extra (pyproject.toml); the bot image (docker/Dockerfile.bot) ships engine/'s
# source without these, and a worker started there would only die at its first import.
ENGINE_LIBRARIES = ("torch", "diffusers")


def say(text: str) -> None:
    print(f"sitter: {text}", file=sys.stderr, flush=True)


def missing_engine_libraries() -> list[str]:
    return [name for name in ENGINE_LIBRARIES if importlib.util.find_spec(name) is None]


def start_worker(settings: Settings) -> subprocess.Popen | None:
    """An engine worker process serving this Redis; None when the engine's libraries are
    not installed here (said, so the person knows to start one elsewhere)."""
    missing = missing_engine_libraries()
    if missing:
        say(
            f"the engine's libraries ({', '.join(missing)}) are not installed here, so no "
            "worker is started: start `sitter worker` on a machine that has them "
            "(pip install 'sitter[engine]'), or pass --no-worker."
        )
        return None
    env = dict(os.environ, SITTER_REDIS_URL=settings.redis_url)
    log_path = settings.data_dir / "worker.log"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    out = open(log_path, "ab")  # noqa: SIM115 (handed to the child)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "worker"], env=env, stdout=out, stderr=out
    )
    out.close()
    say(f"started an engine worker (pid {proc.pid}, model {settings.model}); log: {log_path}")
    return proc


def stop_worker(proc: subprocess.Popen | None) -> None:
    """SIGINT: the worker hands a running order back to the queue at once (no grace,
    engine/worker.py ``serve``), so the next start finds it queued, not a stale 50%."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(1)
        return
    except subprocess.TimeoutExpired:
        say("stopping the engine worker: its order goes back to the queue…")
    try:
        proc.wait(19)  # a render stops at its next step
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# A log record below WARNING, or a library's own note: not the worker's reason.
# A WARNING record too (the C2PA development note): a refusal is printed plainly.
_CHATTER = re.compile(r"^(\d{4}-\d\d-\d\d[ T][\d:,.]+ +(DEBUG|INFO|WARNING)\b|\[\w+\] )")
# (a tqdm bar: "Loading weights:  40%|████      | 2/5 [00:01<00:01, 2.1it/s]")
_BAR = re.compile(r"\d+%\|.*\||\d+/\d+ \[[\d:<?, .]*(it/s|s/it)?")


class WorkerKeeper:
    """The worker process `sitter run`/`sitter chat` started: started again when it dies
    (at most ``MAX_RESTARTS`` times, waiting longer each time), saying so."""

    MAX_RESTARTS = 5
    CHECK_S = 2.0

    def __init__(self, settings: Settings):
        self.settings = settings
        self.check_s = self.CHECK_S
        self.restarts = 0
        self.proc = start_worker(settings)

    async def watch(self) -> None:
        while self.proc is not None:
            await asyncio.sleep(self.check_s)
            code = self.proc.poll()
            if code is None:
                continue
            if code == CONFIG_REFUSED:
                say(
                    f"the engine worker refused its configuration (exit {code}), so it is not "
                    f"started again: {self._reason()}"
                )
                return
            if self.restarts >= self.MAX_RESTARTS:
                say(
                    f"the engine worker stopped again (exit {code}); not restarting it after "
                    f"{self.restarts} restarts. See {self.settings.data_dir / 'worker.log'}."
                )
                return
            self.restarts += 1
            say(f"the engine worker stopped (exit {code}); starting it again.")
            await asyncio.sleep(min(30.0, self.check_s * 2 ** (self.restarts - 1)))
            self.proc = start_worker(self.settings)

    def _reason(self) -> str:
        """The worker's own last words (its log), or where to find them."""
        log_file = self.settings.data_dir / "worker.log"
        try:
            lines = [ln for ln in log_file.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            lines = []
        # Its refusal, not the start-up log around it (INFO lines, library notes).
        lines = [part for ln in lines for part in ln.split("\r") if part.strip()]
        said = [ln for ln in lines if not _CHATTER.match(ln) and not _BAR.search(ln)][-4:]
        if not said:
            return f"see {log_file}."
        text = "\n  ".join(said)
        if "model cache" in text:
            text += f"\n  To try Sitter without downloads: {TRY_OFFLINE}"
        return text


@contextlib.asynccontextmanager
async def kept_worker(settings: Settings) -> AsyncIterator[WorkerKeeper]:
    """A watched worker for as long as the block runs; stopped when it ends."""
    keeper = WorkerKeeper(settings)
    watch = asyncio.create_task(keeper.watch(), name="worker keeper")
    try:
        yield keeper
    finally:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
        stop_worker(keeper.proc)  # blocking on purpose: a second Ctrl-C must not skip it
