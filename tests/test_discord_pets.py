"""/pet on Discord (issue 25): the slash command in the DM opens a pet's set through the
real discord.py client and the real studio core (Discord's servers faked by
tests/discord_fake.py); the name typed and the species pressed start the pet's set."""

from __future__ import annotations

import pytest
from discord_fake import FakeDiscord, install_webhook_fake
from discord_session import running_bot

from sitter.config import load_settings

DISCORD_DB = 14  # as tests/test_discord_flow.py: never flushed, a unique prefix per test


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


async def test_pet_slash_command_in_the_dm(data_dir, redis_url, queue_prefix, fake) -> None:
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    async with running_bot(settings, fake) as (client, studio):
        alice = fake.user("Alice")
        dm = fake.dm_of.setdefault(alice, fake.snowflake())
        fake.slash(client, alice, "portrait", channel_id=dm)
        await fake.settle()
        consent = fake.last()
        fake.click(client, alice, consent.message_id, consent.button("I agree"))
        await fake.settle()
        fake.slash(client, alice, "pet", channel_id=dm)
        await fake.settle()
        assert "what is its name" in fake.last().content
        assert "open below" in fake.last("followup").content
        fake.dm(client, alice, "Rex")
        await fake.settle()
        ask = fake.last()
        assert "Is Rex a cat or a dog?" in ask.content and "yours to use" in ask.content
        fake.click(client, alice, ask.message_id, ask.button("🐶 A dog"))
        await fake.settle()
        assert "Send me photos of Rex" in fake.last().content
        user = await studio.store.user("discord", str(alice))
        [rex] = await studio.store.pet_sets(user["id"])
        assert (rex["subject"], rex["pet_name"]) == ("dog", "Rex")
