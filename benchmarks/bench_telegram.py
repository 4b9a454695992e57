"""Telegram adapter figures: updates handled per second and memory with many chats mid-wizard.

One bot process (the real PTB adapter over the real Studio, its SQLite file
and Redis) talks to the Bot API emulator, which runs in this process. N users
already have consent and two accepted reference photos (written straight into
the database: photo analysis is the engine's cost, measured elsewhere). Then,
over Telegram, every chat sends /start, presses Done and picks a style, which
leaves N chats mid-wizard. Printed: updates/s for each round, the bot's RSS
before and after, and the message rate with flood control on.

    .venv/bin/python benchmarks/bench_telegram.py [--chats 1000]
    .venv/bin/python benchmarks/bench_telegram.py --short --json   # the test's mode

Uses SITTER_REDIS_URL when set, else starts a private redis-server. Every wait has a
limit (``--timeout``, per round): a bot that stops answering ends the run with a
message, never a hang. The photos written at set-up are real (small) JPEG files: /start
draws the set's contact sheet from them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from telegram_api import BotApiEmulator, Call, TgUser  # noqa: E402

FIRST_USER = 500_000


# --- the bot process --------------------------------------------------------------------------
async def run_bot(flood_control: bool) -> None:
    from bot.studio.core.core import Studio
    from bot.telegram.app import TelegramAdapter
    from sitter.config import load_settings

    settings = load_settings()
    studio = await Studio.open(settings)
    adapter = TelegramAdapter(
        studio, settings, poll_timeout_s=1, flood_control=flood_control, concurrency=64
    )
    await adapter.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await stop.wait()
    finally:
        await adapter.stop()
        await studio.aclose()


# --- set-up -------------------------------------------------------------------------------
async def seed(data_dir: Path, chats: int) -> None:
    """N users with consent and two accepted photos, waiting at the references step."""
    from bot.store.store import Store
    from bot.studio.core import words

    store = await Store.open(data_dir / "sitter.db", data_dir / "media")
    rng = random.Random(1)
    try:
        async with store.tx():
            for i in range(chats):
                uid = str(FIRST_USER + i)
                user = await store.ensure_user("telegram", uid, f"User {i}", uid)
                await store.record_consent(user["id"], words.CONSENT_VERSION, words.CONSENT_TEXT)
                ref = await store.current_set(user["id"])
                vec = [rng.uniform(-0.1, 0.1) for _ in range(128)]  # one person: one face
                for n in range(2):
                    rel, sha = store.media.put(user["id"], "refs", _photo(i, n), "jpg")
                    pid = await store.add_photo(ref["id"], user["id"], sha, rel, f"{n}.jpg")
                    await store.update_photo(pid, "accepted", [], embedding=vec, backend="dlib")
                await store.save_session(user["id"], "references", {})
    finally:
        await store.close()


def _photo(i: int, n: int) -> bytes:
    """A small real JPEG (the contact sheet decodes it), different for each photo."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (96, 96), ((i * 7) % 256, (n * 90) % 256, 120)).save(buf, "JPEG")
    return buf.getvalue()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Counter:
    """Counts the bot's successful calls without rescanning the whole log each time."""

    def __init__(self, api: BotApiEmulator) -> None:
        self.api = api
        self.seen = 0
        self.by_chat: dict[int, list[Call]] = {}

    def update(self) -> None:
        calls = self.api.calls
        for call in calls[self.seen :]:
            if not call.error and "chat_id" in call.params:
                self.by_chat.setdefault(int(call.params["chat_id"]), []).append(call)
        self.seen = len(calls)

    async def until(self, done: callable, timeout: float = 120) -> float:  # type: ignore[valid-type]
        start = time.perf_counter()
        while True:
            self.update()
            if done():
                return time.perf_counter() - start
            if time.perf_counter() - start > timeout:
                first = next(iter(self.by_chat.values()), [])
                last = [c.params.get("text", c.params.get("caption", ""))[:120] for c in first[-3:]]
                raise TimeoutError(f"the bot did not answer in time; last said: {last}")
            await asyncio.sleep(0.01)


async def start_bot(
    api: BotApiEmulator, env: dict[str, str], flood: bool
) -> asyncio.subprocess.Process:
    args = [__file__, "--bot"] + ([] if flood else ["--no-flood-control"])
    proc = await asyncio.create_subprocess_exec(sys.executable, *args, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while not any(c.method == "deleteWebhook" for c in api.calls):  # polling starts next
        await asyncio.sleep(0.05)
        if proc.returncode is not None:
            raise RuntimeError("the bot process exited")
        if time.monotonic() > deadline:
            proc.kill()
            raise TimeoutError("the bot did not start polling within 60 s")
    await asyncio.sleep(1.0)
    return proc


async def start_engine(env: dict[str, str]) -> asyncio.subprocess.Process:
    """The studio tests' stand-in worker on the fast queue (set checks with dlib)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "tests" / "studio_engine.py"),
        env={**env, "STUDIO_ENGINE_QUEUES": "fast"}, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 120)
    if b"ready" not in line:
        proc.kill()
        raise RuntimeError(f"the stand-in engine did not start: {line!r}")
    return proc


async def stop_bot(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 20)
    except TimeoutError:
        proc.kill()
        await proc.wait()


def shows(calls: list[Call], words: str) -> bool:
    for c in calls:
        if words in c.params.get("text", ""):
            return True
        for row in (c.params.get("reply_markup") or {}).get("inline_keyboard", []):
            if any(words in b["text"] for b in row):
                return True
    return False


ROUND_TIMEOUT_S = 120.0


async def round_trip(
    api: BotApiEmulator, counter: Counter, users: list[TgUser], step, until: str
) -> float:
    """Send one update per chat (``step``); wait until every chat shows ``until``."""
    counter.update()
    before = {u.id: len(counter.by_chat.get(u.id, [])) for u in users}
    started = time.perf_counter()
    for u in users:
        await step(u)
    await counter.until(
        lambda: all(shows(counter.by_chat.get(u.id, [])[before[u.id] :], until) for u in users),
        ROUND_TIMEOUT_S,
    )
    return time.perf_counter() - started


async def main(chats: int, flood_sample: int, as_json: bool) -> None:
    redis_proc = None
    redis_url = os.environ.get("SITTER_REDIS_URL", "")
    if not redis_url:
        from bench_tracker import start_redis

        redis_proc, redis_url = start_redis(Path(tempfile.mkdtemp(prefix="bench-tg-redis-")))
        await asyncio.sleep(0.3)
    try:
        await _main(chats, flood_sample, redis_url, as_json)
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(5)


async def _main(chats: int, flood_sample: int, redis_url: str, as_json: bool) -> None:
    api = BotApiEmulator()
    await api.start()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        t = time.perf_counter()
        await seed(data_dir, chats)
        print(f"seeded {chats} users in {time.perf_counter() - t:.1f} s")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SITTER_")}
        env.update(
            SITTER_TELEGRAM_TOKEN=api.token,
            SITTER_TELEGRAM_API_URL=api.url,
            SITTER_DATA_DIR=str(data_dir),
            SITTER_REDIS_URL=redis_url,
            SITTER_QUEUE_PREFIX=f"bench-tg-{uuid.uuid4().hex[:6]}",
            SITTER_MIN_PHOTOS="2",
            SITTER_LOG_LEVEL="WARNING",
        )
        engine = await start_engine(env)  # the fast queue: the set check behind "Done"
        try:
            await _rounds(api, env, chats, flood_sample, as_json)
        finally:
            await stop_bot(engine)
    await api.stop()


async def _rounds(
    api: BotApiEmulator, env: dict[str, str], chats: int, flood_sample: int, as_json: bool
) -> None:
    users = [TgUser(FIRST_USER + i, f"User {i}") for i in range(chats)]
    for u in users:
        api.private_chat(u)
    counter = Counter(api)

    bot = await start_bot(api, env, flood=False)
    results: dict[str, object] = {"chats": chats}
    try:
        rss0 = rss_mb(bot.pid)
        print(f"bot RSS after start: {rss0:.1f} MB")
        rounds = [
            ("/start -> references step", lambda u: api.send_text(u, "/start"), "Done ("),
            ("press Done -> style step", lambda u: api.press_button(u, "Done ("), "style"),
            ("press a style -> attire step", lambda u: _press_first(api, u), "Step 2 of"),
        ]
        for name, step, until in rounds:
            cpu, own = cpu_s(bot.pid), time.process_time()
            secs = await round_trip(api, counter, users, step, until)
            cpu, own = cpu_s(bot.pid) - cpu, time.process_time() - own
            rate = chats / secs
            print(
                f"{name}: {chats} updates in {secs:.2f} s = {rate:.0f} updates/s "
                f"(bot CPU {cpu:.2f} s = {1000 * cpu / chats:.1f} ms per update; "
                f"emulator CPU {own:.2f} s)"
            )
            results[name] = round(rate, 1)
        rss1 = rss_mb(bot.pid)
        print(
            f"bot RSS with {chats} chats mid-wizard: {rss1:.1f} MB "
            f"(+{rss1 - rss0:.1f} MB, {1024 * (rss1 - rss0) / chats:.1f} KB per chat)"
        )
        results.update(rss_start_mb=round(rss0, 1), rss_mid_wizard_mb=round(rss1, 1))
    finally:
        await stop_bot(bot)

    # Flood control on: how fast the same bot may send (Telegram allows ~30/s).
    api.calls.clear()
    counter = Counter(api)
    bot = await start_bot(api, env, flood=True)
    try:
        sample = users[:flood_sample]
        secs = await round_trip(
            api, counter, sample, lambda u: api.send_text(u, "/status"), "No orders yet"
        )
        print(
            f"flood control on: {len(sample)} answers in {secs:.2f} s = "
            f"{len(sample) / secs:.1f} messages/s (limit 30/s after a burst of 30)"
        )
        results["flood_control_messages_per_s"] = round(len(sample) / secs, 1)
    finally:
        await stop_bot(bot)
    print(json.dumps(results) if as_json else results)


async def _press_first(api: BotApiEmulator, user: TgUser) -> None:
    msg = api.last_message(user.id)
    await api.press(user, msg, msg["reply_markup"]["inline_keyboard"][0][0]["callback_data"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--flood-sample", type=int, default=150)
    parser.add_argument("--timeout", type=float, default=ROUND_TIMEOUT_S, help="s per round")
    parser.add_argument("--short", action="store_true", help="20 chats (the test's mode)")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    parser.add_argument("--bot", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-flood-control", action="store_true", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.bot and os.environ.get("BENCH_PROFILE"):  # where the bot's time goes (main thread)
        import cProfile

        cProfile.run(
            "asyncio.run(run_bot(flood_control=not a.no_flood_control))",
            f"{os.environ['BENCH_PROFILE']}.{os.getpid()}",
        )
    elif a.bot:
        asyncio.run(run_bot(flood_control=not a.no_flood_control))
    else:
        ROUND_TIMEOUT_S = a.timeout
        if a.short:
            a.chats, a.flood_sample = min(a.chats, 20), min(a.flood_sample, 10)
        asyncio.run(main(a.chats, a.flood_sample, a.json))
