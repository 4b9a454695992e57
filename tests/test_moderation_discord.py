"""A report over Discord, end to end: discord.py's real client, interactions and
dynamic items; the real Studio on SQLite and Redis. Only Discord's servers are
faked (tests/discord_fake.py). A portrait shared in a server channel is reported,
the moderation channel gets the card, a member without the moderators' role is
refused, a moderator decides, and both people hear the outcome in their DMs."""

from __future__ import annotations

import pytest
from discord_fake import CHANNEL_ID, GUILD_ID, FakeDiscord, install_webhook_fake
from discord_session import running_bot
from moderation_helpers import seed_person

from bot.discord.guild_settings import GuildSettingsStore
from sitter.config import load_settings

MOD_ROLE = "930000000000000777"
DISCORD_DB = 14


@pytest.fixture(name="redis_url")
def discord_redis_url(redis_server: str) -> str:
    """Like tests/test_discord_flow.py: a db that is never flushed, unique queue names."""
    if redis_server.startswith("unix://"):
        return redis_server.replace("db=0", f"db={DISCORD_DB}")
    return redis_server.rsplit("/", 1)[0] + f"/{DISCORD_DB}"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeDiscord:
    f = FakeDiscord()
    install_webhook_fake(monkeypatch, f)
    return f


async def test_report_over_discord_from_server_to_decision(
    data_dir, redis_url, queue_prefix, fake: FakeDiscord
) -> None:
    settings = load_settings(
        data_dir=data_dir,
        redis_url=redis_url,
        queue_prefix=queue_prefix,
        poll_delay_s=0.01,
    )
    async with running_bot(settings, fake) as (client, studio):
        alice, bob, mia, eve = (fake.user(n) for n in ("Alice", "Bob", "Mia", "Eve"))
        await GuildSettingsStore(studio.store).update(
            GUILD_ID, "test", moderator_role_id=MOD_ROLE, moderation_channel_id=str(CHANNEL_ID)
        )
        # Alice's finished order is delivered to her DM by the core's background loop.
        dm = fake.dm_of.setdefault(alice, fake.snowflake())
        ann = await seed_person(studio.store, "discord", str(alice), chat=str(dm))
        await studio.store.run("UPDATE orders SET status = 'done', delivered_at = NULL")
        results = await fake.wait_for(lambda s: s.kind == "message" and "Report 2" in s.labels())
        shared = fake.share(results.message_id)  # she posts it in the server channel

        # Bob reports it from there: the form is ephemeral, seen by him alone.
        fake.click(client, bob, shared, results.button("Report 2"))
        await fake.settle()
        form = fake.last("followup")
        assert form.ephemeral and "Why are you reporting this portrait?" in form.content
        fake.click(client, bob, form.message_id, form.button("It's me and I did not consent"))
        await fake.settle()
        ack = fake.last("followup")
        assert "Your report #1 (it's me and I did not consent) is with the moderators" in (
            ack.content
        )

        # The card lands in the moderation channel with the portrait and five actions.
        card = await fake.wait_for(
            lambda s: s.kind == "message" and s.content.startswith("Report #1")
        )
        assert card.channel_id == CHANNEL_ID and len(card.files) == 1
        assert card.labels() == [
            "Dismiss", "Remove images", "Purge owner's photos", "Protect this face", "Ban owner",
        ]  # fmt: skip
        assert f"(discord:{alice}, user #1)" in card.content

        # Eve has no moderators' role; Mia has.
        fake.click(client, eve, card.message_id, card.button("Ban owner"))
        await fake.settle()
        assert fake.last("followup").content == "Only moderators can act on reports."
        assert (await studio.store.user("discord", str(alice)))["banned_at"] is None
        fake.click(client, mia, card.message_id, card.button("Remove images"), roles=[MOD_ROLE])
        await fake.settle()
        edited = await fake.wait_for(
            lambda s: s.kind == "edit" and "Decided: portraits removed" in s.content
        )
        assert edited.message_id == card.message_id and not edited.labels()
        assert f"by discord:{mia} (Mia)" in edited.content

        # Both people hear the outcome in their DMs.
        to_bob = await fake.wait_for(lambda s: s.kind == "message" and "was reviewed" in s.content)
        assert to_bob.channel_id == fake.dm_of[bob]
        to_alice = await fake.wait_for(
            lambda s: s.kind == "message" and "removed your portraits" in s.content
        )
        assert to_alice.channel_id == dm
        rows = await studio.store.variations(ann["order_id"])
        assert all(r.removed_at for r in rows)


async def test_report_portrait_from_the_message_menu(
    data_dir, redis_url, queue_prefix, fake: FakeDiscord
) -> None:
    """Right-click > Apps > Report portrait on a shared result: pick which portrait."""
    settings = load_settings(
        data_dir=data_dir,
        redis_url=redis_url,
        queue_prefix=queue_prefix,
        poll_delay_s=0.01,
    )
    async with running_bot(settings, fake) as (client, studio):
        alice, bob = fake.user("Alice"), fake.user("Bob")
        dm = fake.dm_of.setdefault(alice, fake.snowflake())
        await seed_person(studio.store, "discord", str(alice), chat=str(dm))
        await studio.store.run("UPDATE orders SET status = 'done', delivered_at = NULL")
        results = await fake.wait_for(lambda s: s.kind == "message" and "Report 2" in s.labels())
        shared = fake.share(results.message_id)
        data = {
            "id": str(fake.snowflake()),
            "name": "Report portrait",
            "type": 3,  # message context menu
            "target_id": str(shared),
            "resolved": {"messages": {str(shared): fake.messages[shared]}},
        }
        client._connection.parse_interaction_create(
            fake._interaction(2, bob, data, channel_id=CHANNEL_ID)
        )
        await fake.settle()
        pick = fake.last("followup")
        assert pick.ephemeral and pick.content == "Which portrait do you report?"
        assert pick.labels() == ["Portrait 1", "Portrait 2", "Portrait 3", "Portrait 4"]
        fake.click(client, bob, pick.message_id, pick.button("Portrait 3"))
        await fake.settle()
        assert "Why are you reporting this portrait?" in fake.last("followup").content
