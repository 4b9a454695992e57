"""Portraits of two people on Discord: discord.py's real client and interactions, the
real studio core on a real SQLite file and Redis; only Discord's servers are faked
(tests/discord_fake.py). ``/together member:`` in a shared server sends the invitation
to the member's DMs (who asks, what is made, who receives it), the member answers in
their own DM, the inviter is told in theirs; a banned member cannot be invited; a
third member's press on the invitation is refused."""

from __future__ import annotations

import pytest
from discord_fake import FakeDiscord, install_webhook_fake
from discord_session import running_bot

from bot.studio.core import words
from bot.studio.core.core import Studio
from sitter.config import load_settings

DISCORD_DB = 14


@pytest.fixture(name="redis_url")
def discord_redis_url(redis_server: str) -> str:
    """As tests/test_discord_flow.py: a database never flushed, a prefix per test."""
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


async def ready_person(studio: Studio, fake: FakeDiscord, uid: int, name: str) -> None:
    """A member who agreed and whose photo set is ready (as the engine would leave it)."""
    user = await studio.store.ensure_user("discord", str(uid), name, str(fake.dm_of.get(uid, "")))
    await studio.store.record_consent(user["id"], words.CONSENT_VERSION, words.CONSENT_TEXT)
    ref = await studio.store.current_set(user["id"])
    await studio.store.set_status(ref["id"], "ready")


def member(fake: FakeDiscord, uid: int) -> dict:
    return {
        "options": [{"name": "member", "type": 6, "value": str(uid)}],
        "resolved": {"users": {str(uid): fake.users[uid]}},
    }


def button(sent, label: str) -> str:
    for row in sent.components:
        for c in row["components"]:
            if c.get("label", "").startswith(label):
                return c["custom_id"]
    raise AssertionError(f"no {label!r} on {sent.content!r}")


async def test_together_over_discord(settings, fake) -> None:
    async with running_bot(settings, fake) as (client, studio):
        alice, bob, carl, dora = (fake.user(n) for n in ("Alice", "Bob", "Carl", "Dora"))
        await ready_person(studio, fake, alice, "Alice")

        # A banned member cannot be invited.
        banned = await studio.store.ensure_user("discord", str(carl), "Carl")
        await studio.moderation.bans.ban("test", banned["id"], "test")  # type: ignore[union-attr]
        m = member(fake, carl)
        fake.slash(client, alice, "together", m["options"], resolved=m["resolved"])
        await fake.settle()
        assert fake.last("followup").content == "This person cannot be invited."

        # Bob is invited: the invitation comes to his DMs, and waits for his own set.
        m = member(fake, bob)
        fake.slash(client, alice, "together", m["options"], resolved=m["resolved"])
        await fake.settle()
        assert "I've sent your invitation to Bob's direct messages" in fake.last("followup").content
        card = await fake.wait_for(lambda s: "Alice invites you" in s.content)
        assert card.channel_id == fake.dm_of[bob] and "First agree" in card.content

        await ready_person(studio, fake, bob, "Bob")
        fake.dm(client, bob, "/together")
        await fake.settle()
        listing = await fake.wait_for(lambda s: "Alice invited you: waiting" in s.content)
        accept = button(listing, "✓ Accept")
        fake.click(client, dora, listing.message_id, accept)  # someone else's press
        await fake.settle()
        assert "not yours to answer" in fake.transcript().splitlines()[-1]
        fake.click(client, bob, listing.message_id, accept)
        await fake.settle()
        await fake.wait_for(lambda s: s.content.startswith("Accepted. Alice can now order"))
        told = await fake.wait_for(lambda s: "Bob accepted your invitation" in s.content)
        assert told.channel_id == fake.dm_of[alice]
        assert button(told, "Make our portrait")
        bob_row = await studio.store.user("discord", str(bob))
        [inv] = await studio.store.invitations_of(bob_row["id"])
        assert inv["status"] == "accepted" and inv["consent_version"] == "together-1"
