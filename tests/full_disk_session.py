"""Run by tests/test_robust_sqlite.py inside ``unshare -rm`` with DATA_DIR on a small
tmpfs: a studio (in-memory engine, real SQLite file) whose disk fills up just before
"✓ Queue it" is pressed three times. Prints one JSON object: the replies' texts, the
warning lines and how many log records carried a traceback."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

from fake_engine import FakeEngine
from studio_harness import Chat, RecordingOutbox, astronaut_set
from test_pack_orders import WHO, _linkedin, _ready

from bot.studio.core.core import Studio
from sitter.config import load_settings


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def main(data_dir: Path) -> dict[str, object]:
    fake = FakeEngine()
    fake.show(astronaut_set(), "astronaut")
    settings = load_settings(
        data_dir=data_dir, redis_url="redis://127.0.0.1:1/0", queue_prefix="fake", daily_quota=12
    )
    studio = await Studio.open(settings, engine=fake, tick_s=0.05, analyze_timeout_s=5)
    studio.add_outbox("terminal", RecordingOutbox())
    chat = Chat(studio, WHO)
    await _ready(chat)
    summary = await _linkedin(chat)
    assert await studio.store.checkpoint()  # the WAL emptied: the next write needs space
    with (data_dir / "filler").open("wb") as fh:  # the disk fills up (ENOSPC)
        try:
            while True:
                fh.write(bytes(1 << 16))
                fh.flush()
        except OSError:
            pass
    keep = Keep()
    logging.getLogger().addHandler(keep)
    logging.getLogger().setLevel(logging.INFO)
    replies = [await chat.press("✓ Queue it", summary) for _ in range(3)]
    for _ in range(3):
        await studio.tracker().tick()
    logging.getLogger().removeHandler(keep)
    (data_dir / "filler").unlink()
    await studio.aclose()
    return {
        "replies": [" | ".join(r.text for r in rs) for rs in replies],
        "warnings": [r.getMessage() for r in keep.records if r.levelno >= logging.WARNING],
        "tracebacks": len([r for r in keep.records if r.exc_info]),
        "errors": [repr(r.exc_info[1]) for r in keep.records if r.exc_info][:3],
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(Path(sys.argv[1])))))
