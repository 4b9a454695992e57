"""How fast the Discord adapter acknowledges interactions while the core is busy.

Discord drops an interaction that is not acknowledged within 3 seconds. This
drives the real discord.py client and the real studio core (SQLite file, Redis
at SITTER_TEST_REDIS_URL or 127.0.0.1:6379, db 14) through the offline fake of
Discord's HTTP edge: N members run /portrait at once, then all press "I agree"
at once, and it prints the time from each interaction's arrival to its
acknowledgement, and to the last reply of the wave.

    .venv/bin/python benchmarks/bench_discord_ack.py --members 200
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
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from discord_fake import FakeDiscord, install_webhook_fake  # noqa: E402
from discord_session import running_bot  # noqa: E402

from sitter.config import load_settings  # noqa: E402


def _row(name: str, values: list[float], wave_s: float) -> str:
    q = statistics.quantiles(values, n=100)
    return (
        f"{name:<22}{len(values):>6}{statistics.median(values) * 1000:>10.1f}"
        f"{q[94] * 1000:>10.1f}{max(values) * 1000:>10.1f}{wave_s:>10.2f}"
    )


async def main(members: int) -> None:
    from pytest import MonkeyPatch

    base = os.environ.get("SITTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            data_dir=Path(tmp),
            redis_url=f"{base}/14",
            queue_prefix=f"bench-{uuid.uuid4().hex[:8]}",
        )
        mp = MonkeyPatch()
        fake = FakeDiscord()
        install_webhook_fake(mp, fake)
        print(f"{'wave':<22}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}{'wave s':>10}")
        try:
            async with running_bot(settings, fake) as (client, _studio):
                users = [fake.user(f"Member {i}") for i in range(members)]
                start, t0 = len(fake.log), time.perf_counter()
                for uid in users:
                    fake.slash(client, uid, "portrait")
                await fake.settle(300)
                wave = time.perf_counter() - t0
                print(_row("/portrait (to DM)", fake.ack_latencies(), wave))

                consent = {s.channel_id: s for s in fake.log[start:] if s.kind == "message"}
                acked = len(fake.ack_latencies())
                t0 = time.perf_counter()
                for uid in users:
                    msg = consent[fake.dm_of[uid]]
                    fake.click(client, uid, msg.message_id, msg.button("I agree"))
                await fake.settle(300)
                wave = time.perf_counter() - t0
                print(_row("press I agree", fake.ack_latencies()[acked:], wave))
        finally:
            mp.undo()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--members", type=int, default=100)
    asyncio.run(main(p.parse_args().members))
