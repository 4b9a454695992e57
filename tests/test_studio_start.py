"""The first steps of the studio: greeting, consent, stale buttons, commands."""

from __future__ import annotations

from pathlib import Path

from fake_engine import FakeEngine

from bot.studio.core.core import Studio
from bot.studio.core.events import Command, Press, Text, Who
from bot.studio.core.words import CONSENT_VERSION
from sitter.config import load_settings

WHO = Who("terminal", "u1", "c1", "Ann")


async def _studio(data_dir: Path) -> Studio:
    """On the in-memory engine: no Redis (nothing answers at its URL)."""
    settings = load_settings(data_dir=data_dir, redis_url="redis://127.0.0.1:1/0")
    return await Studio.open(settings, engine=FakeEngine())


async def test_start_asks_consent_and_records_it(data_dir):
    studio = await _studio(data_dir)
    try:
        [greeting] = await studio.handle(Command(WHO, "start"))
        assert "permission" in greeting.text and "30 days" in greeting.text
        agree = greeting.buttons[0][0]
        assert agree.label == "I agree"
        replies = await studio.handle(Press(WHO, agree.data))
        assert "Send me photos" in replies[-1].text
        user = await studio.store.user("terminal", "u1")
        consent = await studio.store.consent(user["id"])
        assert consent["version"] == CONSENT_VERSION and "permission" in consent["text"]
        # The same button again is stale, and says where we are.
        again = await studio.handle(Press(WHO, agree.data))
        assert "earlier message" in again[0].text and "Send me photos" in again[-1].text
    finally:
        await studio.aclose()


async def test_before_consent_everything_leads_to_consent(data_dir):
    studio = await _studio(data_dir)
    try:
        replies = await studio.handle(Text(WHO, "hello"))
        assert replies[-1].buttons[0][0].label == "I agree"
        replies = await studio.handle(Command(WHO, "status"))
        assert replies[-1].buttons[0][0].label == "I agree"
        unknown = await studio.handle(Press(WHO, "garbage:data"))
        assert "doesn't work any more" in unknown[0].text
        assert unknown[-1].buttons[0][0].label == "I agree"
    finally:
        await studio.aclose()


async def test_group_chats_are_sent_to_private(data_dir):
    studio = await _studio(data_dir)
    try:
        group = Who("telegram", "u2", "-100", "Bob", private=False)
        [reply] = await studio.handle(Command(group, "start"))
        assert "direct message" in reply.text
    finally:
        await studio.aclose()


async def test_decline_keeps_nothing(data_dir):
    studio = await _studio(data_dir)
    try:
        [greeting] = await studio.handle(Command(WHO, "start"))
        [reply] = await studio.handle(Press(WHO, greeting.buttons[0][1].data))
        assert "won't keep" in reply.text
        user = await studio.store.user("terminal", "u1")
        assert await studio.store.consent(user["id"]) is None
    finally:
        await studio.aclose()


async def test_new_consent_version_asks_again(data_dir):
    studio = await _studio(data_dir)
    try:
        [greeting] = await studio.handle(Command(WHO, "start"))
        await studio.handle(Press(WHO, greeting.buttons[0][0].data))
        user = await studio.store.user("terminal", "u1")
        await studio.store.run("UPDATE consents SET version = 'old' WHERE user_id = ?", user["id"])
        replies = await studio.handle(Text(WHO, "hello"))
        assert "consent text changed" in replies[0].text
        assert replies[-1].buttons[0][0].label == "I agree"
        replies = await studio.handle(Press(WHO, replies[-1].buttons[0][0].data))
        assert "Send me photos" in replies[-1].text
        assert (await studio.store.consent(user["id"]))["version"] == CONSENT_VERSION
    finally:
        await studio.aclose()


def test_the_bot_side_imports_no_torch(tmp_path) -> None:
    """The core, the terminal adapter and `sitter run` load no ML library."""
    import subprocess
    import sys

    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from sitter.config import load_settings\n"
        "from bot.studio.core.core import Studio\n"
        "import bot.terminal.app, bot.app, cli.doctor\n"
        "async def m():\n"
        f"    s = await Studio.open(load_settings(data_dir=Path({str(tmp_path)!r})))\n"
        "    await s.aclose()\n"
        "asyncio.run(m())\n"
        "heavy = ('torch', 'diffusers', 'transformers', 'numpy', 'insightface', 'dlib', 'cv2')\n"
        "print(sorted(k for k in heavy if k in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
