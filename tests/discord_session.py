"""Pieces for the Discord tests: the real studio core behind the real discord.py
client, an engine worker process, and test photos.

``python tests/discord_session.py`` runs one full DM session (needs Redis at
SITTER_TEST_REDIS_URL or 127.0.0.1:6379) and prints the transcript as the
tests see it.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from discord_fake import GUILD_ID, FakeDiscord  # noqa: E402

from bot.discord.client import SitterClient  # noqa: E402
from bot.studio.core.core import Studio  # noqa: E402
from sitter.config import Settings  # noqa: E402


def _encode(im: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, fmt)
    return buf.getvalue()


def astronaut_photos() -> list[tuple[str, bytes, str]]:
    """Four photos of one person (scikit-image's astronaut, CC0), as Discord attachments."""
    from skimage import data

    # Cropped to her head: the full picture has a second face-like patch for dlib.
    # Each framed differently: the same picture mirrored or brightened counts once.
    full = Image.fromarray(data.astronaut())
    im = full.crop((60, 0, 412, 352))
    mirror = ImageOps.mirror(full.crop((20, 0, 380, 360)))
    brighter = ImageEnhance.Brightness(full.crop((80, 0, 400, 400))).enhance(1.1)
    return [
        ("astronaut.png", _encode(im, "PNG"), "image/png"),
        ("mirror.jpg", _encode(mirror, "JPEG"), "image/jpeg"),
        ("brighter.jpg", _encode(brighter, "JPEG"), "image/jpeg"),
        (
            "closer.jpg",
            _encode(im.crop((30, 20, 322, 312)).resize((400, 400)), "JPEG"),
            "image/jpeg",
        ),
    ]


def engine_command() -> list[str]:
    """The real engine worker once it analyses photos; until then (or with
    STUDIO_TEST_ENGINE=stand-in, as for the studio tests) the studio tests' stand-in
    worker: a real arq worker, real dlib faces, Pillow-made results."""
    import importlib.util

    forced = os.environ.get("STUDIO_TEST_ENGINE", "real") == "stand-in"
    if not forced and importlib.util.find_spec("engine.analysis") is not None:
        return [sys.executable, "-m", "cli", "worker"]
    return [sys.executable, str(ROOT / "tests" / "studio_engine.py")]


def start_engine(settings: Settings, log: Path) -> subprocess.Popen:
    """An engine worker process (tiny model, dlib faces) on the test's queues."""
    env = dict(
        os.environ,
        SITTER_REDIS_URL=settings.redis_url,
        SITTER_QUEUE_PREFIX=settings.queue_prefix,
        SITTER_DATA_DIR=str(settings.data_dir),
        SITTER_MODEL="tiny",
        SITTER_FACE_BACKEND="dlib",
        SITTER_POLL_DELAY_S="0.01",
        PYTHONPATH=str(ROOT),
    )
    out = log.open("ab")
    proc = subprocess.Popen(engine_command(), env=env, stdout=out, stderr=out, cwd=ROOT)
    from studio_harness import wait_for_worker

    # Until its first heartbeat the studio would rightly say no engine is running.
    wait_for_worker(settings.redis_url, settings.queue_prefix, proc)
    return proc


def stop_engine(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@asynccontextmanager
async def running_bot(
    settings: Settings,
    fake: FakeDiscord,
    *,
    message_content: bool = False,
    moderation_guilds: Sequence[int] = (GUILD_ID,),
) -> AsyncIterator[tuple[SitterClient, Studio]]:
    """One bot process's life: the core (with its background loop) and a logged-in client.

    Entering it twice with the same settings is a restart: same database, new objects.
    ``moderation_guilds``: SITTER_DISCORD_MODERATION_GUILDS (the test server's moderators
    may act on reports).
    """
    studio = await Studio.open(settings, tick_s=0.05)
    client = SitterClient(
        studio,
        studio.store,
        max_upload_bytes=settings.max_upload_bytes,
        message_content=message_content,
        moderation_guilds=moderation_guilds,
        sync_commands=False,
    )
    fake.install(client)
    await client.login("test-token")  # the real login path: /users/@me, then setup_hook
    background = asyncio.create_task(studio.run_background())
    try:
        yield client, studio
    finally:
        background.cancel()
        await asyncio.gather(background, return_exceptions=True)
        await client.close()
        await studio.aclose()


async def full_session(
    settings: Settings, fake: FakeDiscord, timeout: float = 90.0
) -> tuple[int, int]:
    """Drive one member from /portrait to delivered results; return (member, results message)."""
    async with running_bot(settings, fake) as (client, _studio):
        alice = fake.user("Alice")
        fake.slash(client, alice, "portrait")
        await fake.settle()
        fake.click(client, alice, fake.last().message_id, fake.last().button("I agree"))
        await fake.settle()
        fake.dm(client, alice, files=astronaut_photos())
        await fake.settle(timeout)
        verdicts = fake.last()
        fake.click(client, alice, verdicts.message_id, verdicts.button("Done (4 photos)"))
        await fake.settle()
        style = fake.last()
        menu = style.components[0]["components"][0]
        fake.pick(client, alice, style.message_id, menu["options"][0]["value"])
        await fake.settle()
        for step in ("attire", "setting", "lighting", "composition", "subject", "format"):
            ask = fake.last()
            if step == "setting":  # typed in the modal
                fake.click(client, alice, ask.message_id, ask.button("Type my own"))
                await fake.settle()
                modal = fake.last("callback")
                fake.submit(client, alice, ask.message_id, modal.custom_id, "a quiet library")
            elif step == "format":  # a banner: 16:9 at the model's own size
                fake.click(client, alice, ask.message_id, ask.button("Landscape 16:9 (banners)"))
            else:
                fake.click(client, alice, ask.message_id, ask.custom_ids()[0])
            await fake.settle()
        confirm = fake.last()
        fake.click(client, alice, confirm.message_id, confirm.button("✓ Queue it"))
        await fake.settle()
        results = await fake.wait_for(lambda s: len(s.files) == 4, timeout)
        await fake.wait_for(lambda s: s.kind == "edit" and "is ready" in s.content, timeout)
        fake.click(client, alice, results.message_id, results.button("Upscale 1"))
        await fake.settle()
        await fake.wait_for(lambda s: s.kind == "message" and len(s.files) == 1, timeout)
        return alice, results.message_id


async def _main() -> None:
    import tempfile
    import uuid

    from discord_fake import install_webhook_fake
    from pytest import MonkeyPatch

    from sitter.config import load_settings

    base = os.environ.get("SITTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            data_dir=Path(tmp),
            redis_url=f"{base}/9",
            queue_prefix=f"transcript-{uuid.uuid4().hex[:8]}",
            poll_delay_s=0.01,
        )
        engine = start_engine(settings, Path(tmp) / "engine.log")
        mp = MonkeyPatch()
        fake = FakeDiscord()
        install_webhook_fake(mp, fake)
        try:
            await full_session(settings, fake)
        finally:
            stop_engine(engine)
            mp.undo()
            print(fake.transcript())
            print((Path(tmp) / "engine.log").read_text()[-3000:])


if __name__ == "__main__":
    asyncio.run(_main())
