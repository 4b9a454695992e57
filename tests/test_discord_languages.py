"""The studio in a Discord member's language (issue 26): discord.py's real client and
interactions, the real studio core; only Discord's servers are faked. A member whose
client is in Spanish (Interaction.locale es-ES) opens the studio with /portrait and is
answered in Spanish in their DMs; a member in English still gets English."""

from __future__ import annotations

import pytest
from discord_fake import FakeDiscord, install_webhook_fake
from discord_session import running_bot

from sitter.config import load_settings

DISCORD_DB = 14


@pytest.fixture(name="redis_url")
def discord_redis_url(redis_server: str) -> str:
    if redis_server.startswith("unix://"):
        return redis_server.replace("db=0", f"db={DISCORD_DB}")
    return redis_server.rsplit("/", 1)[0] + f"/{DISCORD_DB}"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeDiscord:
    f = FakeDiscord()
    install_webhook_fake(monkeypatch, f)
    return f


@pytest.fixture
def settings(data_dir, redis_url, queue_prefix):
    return load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)


async def test_a_spanish_member_is_answered_in_spanish(settings, fake) -> None:
    async with running_bot(settings, fake) as (client, studio):
        lucia, ann = fake.user("Lucía"), fake.user("Ann")
        fake.locales[lucia] = "es-ES"
        fake.slash(client, lucia, "portrait")
        await fake.settle()
        welcome = await fake.wait_for(lambda s: "¡Hola! Soy Sitter" in s.content)
        assert welcome.channel_id == fake.dm_of[lucia]
        labels = [c.get("label") for row in welcome.components for c in row["components"]]
        assert "Acepto" in labels and "No, gracias" in labels
        row = await studio.store.user("discord", str(lucia))
        assert row is not None and row["locale"] == "es"
        fake.slash(client, ann, "portrait")
        await fake.settle()
        english = await fake.wait_for(lambda s: "Hi! I'm Sitter" in s.content)
        assert english.channel_id == fake.dm_of[ann]
