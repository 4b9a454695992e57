"""Issue 13, items 25 and 26, seen from Discord's side of the wire: every interaction is
acknowledged (a button another version left gets a plain answer), and slash commands
are uploaded only when they changed or on `sitter bot --sync`. discord.py's real
client against the fake of Discord's HTTP edge (tests/discord_fake.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from discord_fake import FakeDiscord, install_webhook_fake

from bot.discord.client import UNKNOWN_BUTTON, SitterClient
from bot.studio.core.core import Studio
from sitter.config import load_settings


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeDiscord:
    f = FakeDiscord()
    install_webhook_fake(monkeypatch, f)
    return f


async def _start(settings, fake: FakeDiscord, sync: bool | str) -> tuple[SitterClient, Studio]:
    studio = await Studio.open(settings, tick_s=0.05)
    client = SitterClient(studio, studio.store, max_upload_bytes=1 << 20, sync_commands=sync)
    fake.install(client)
    await client.login("test-token")  # the real login path, then setup_hook
    return client, studio


async def _stop(client: SitterClient, studio: Studio) -> None:
    await client.close()
    await studio.aclose()


def _settings(data_dir: Path, redis_url: str, queue_prefix: str):
    return load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)


async def test_unknown_custom_ids_are_acknowledged_with_a_plain_answer(
    fake: FakeDiscord, data_dir: Path, redis_url: str, queue_prefix: str
) -> None:
    client, studio = await _start(_settings(data_dir, redis_url, queue_prefix), fake, False)
    try:
        alice = fake.user("Alice")
        fake.slash(client, alice, "portrait")
        await fake.settle()
        message_id = fake.last().message_id
        for custom_id in ("oldsitter:retry:12", "sitter:x:gone", "another-bot:vote"):
            before = len(fake.log)
            fake.click(client, alice, message_id, custom_id)
            await fake.settle()
            answers = [s for s in fake.log[before:] if s.kind == "callback"]
            assert len(answers) == 1, (custom_id, fake.log[before:])
            assert answers[0].ephemeral and answers[0].content == UNKNOWN_BUTTON
        # Our own buttons are still ours: one acknowledgement, not two.
        before = len(fake.log)
        fake.click(client, alice, message_id, fake.last("message").button("I agree"))
        await fake.settle()
        assert len([s for s in fake.log[before:] if s.kind == "callback"]) == 1
        assert UNKNOWN_BUTTON not in [s.content for s in fake.log[before:]]
    finally:
        await _stop(client, studio)


async def test_slash_commands_upload_only_when_changed_or_forced(
    fake: FakeDiscord, data_dir: Path, redis_url: str, queue_prefix: str
) -> None:
    settings = _settings(data_dir, redis_url, queue_prefix)

    def uploads() -> int:
        return sum(s.kind == "commands" for s in fake.log)

    for _ in range(3):  # a start and two restarts: one upload
        client, studio = await _start(settings, fake, "auto")
        await _stop(client, studio)
    assert uploads() == 1

    client, studio = await _start(settings, fake, "always")  # sitter bot --sync
    await _stop(client, studio)
    assert uploads() == 2

    # A new command in this version: uploaded once at the next start.
    studio = await Studio.open(settings, tick_s=0.05)
    client = SitterClient(studio, studio.store, max_upload_bytes=1 << 20, sync_commands="auto")

    @client.tree.command(name="sitter-new", description="a command added in this version")
    async def new(interaction) -> None:  # pragma: no cover (never run)
        pass

    fake.install(client)
    await client.login("test-token")
    await _stop(client, studio)
    assert uploads() == 3 and "sitter-new" in fake.last("commands").content


async def test_outbox_tells_a_refusing_chat_from_a_passing_failure(
    fake: FakeDiscord, data_dir: Path, redis_url: str, queue_prefix: str
) -> None:
    """Review 1, finding 3: DMs closed (403) and a deleted channel (404) raise ChatRefused,
    so the tracker gives up on that chat; a 503 is raised as it is and tried again."""
    from bot.studio.core.events import ChatRefused, Recipient, Reply

    client, studio = await _start(_settings(data_dir, redis_url, queue_prefix), fake, False)
    try:
        outbox = studio.outboxes["discord"]
        alice, bob = fake.user("Alice"), fake.user("Bob")
        fake.slash(client, alice, "portrait")
        fake.slash(client, bob, "portrait")
        await fake.settle()
        dm_alice, dm_bob = fake.dm_of[alice], fake.dm_of[bob]
        fake.dms_closed.add(alice)
        with pytest.raises(ChatRefused, match="403"):
            await outbox.send(Recipient("discord", str(dm_alice)), Reply("Your portraits"))
        fake.gone_channels.add(dm_bob)
        with pytest.raises(ChatRefused, match="404"):
            await outbox.send(Recipient("discord", str(dm_bob)), Reply("Your portraits"))
        fake.gone_channels.clear()
        fake.fail_next_sends = 1
        with pytest.raises(Exception) as passing:
            await outbox.send(Recipient("discord", str(dm_bob)), Reply("Your portraits"))
        assert not isinstance(passing.value, ChatRefused)
        await outbox.send(Recipient("discord", str(dm_bob)), Reply("Your portraits"))
        assert fake.last("message").content == "Your portraits"
    finally:
        await _stop(client, studio)
