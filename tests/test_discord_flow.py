"""The Discord adapter end to end: discord.py's real client, interactions and
view store; the real studio core on a real SQLite file and Redis; an engine
worker process. Only Discord's servers are faked (tests/discord_fake.py), and
every assertion is on what the bot sent them."""

from __future__ import annotations

import io

import discord
import pytest
from discord_fake import (
    ALL_PERMISSIONS,
    CHANNEL_ID,
    GUILD_ID,
    FakeDiscord,
    install_webhook_fake,
)
from discord_session import full_session, running_bot, start_engine, stop_engine
from PIL import Image

from bot.studio.core.events import ChatRefused, Recipient, Reply
from engine.formats import size_for
from sitter.config import load_settings
from sitter.contract import Aspect

DISCORD_DB = 14


@pytest.fixture(name="redis_url")
def discord_redis_url(redis_server: str) -> str:
    """A Redis database for these tests, never flushed: conftest's ``redis_url`` flushes
    db 9 before every test, which wipes the queued jobs of suites running at the same
    time on a shared machine. Queue names carry a unique prefix per test instead."""
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
    return load_settings(
        data_dir=data_dir,
        redis_url=redis_url,
        queue_prefix=queue_prefix,
        poll_delay_s=0.01,
    )


@pytest.fixture
def engine(settings, tmp_path):
    proc = start_engine(settings, tmp_path / "engine.log")
    yield proc
    stop_engine(proc)


async def test_full_dm_session_then_buttons_after_a_restart(settings, engine, fake):
    alice, results_id = await full_session(settings, fake)
    log = fake.log

    # /portrait: acknowledged at once (ephemeral "thinking"), studio in the DM, pointer in server.
    assert log[1].kind == "callback" and log[1].callback_type == 5 and log[1].ephemeral
    pointer = next(s for s in log if s.kind == "followup")
    assert pointer.ephemeral and "direct message" in pointer.content
    consent = fake.bot_messages()[0]
    assert consent.channel_id == fake.dm_of[alice] and "I agree" in consent.labels()
    # Every press and the modal submit were acknowledged by a deferral, the modal opened.
    acks = [s.callback_type for s in log if s.kind == "callback"]
    assert 9 in acks and acks.count(6) >= 8

    # Four photos in one message: one answer with a verdict per photo.
    photos_at = next(i for i, s in enumerate(log) if s.kind == "user" and "sends" in s.content)
    verdicts = fake.bot_messages(photos_at)[0]
    assert verdicts.content.count("✓") == 4 and verdicts.labels() == ["Done (4 photos)"]
    assert len(fake.downloads) == 4

    # Ten styles came as a select menu; the typed setting reached the order.
    style = next(s for s in fake.bot_messages() if "choose a style" in s.content)
    assert style.components[0]["components"][0]["type"] == 3
    confirm = next(s for s in fake.bot_messages() if "Queue it?" in s.content)
    assert "a quiet library" in confirm.content

    # Progress is one message, edited in place; results carry four files and their buttons.
    queued = next(s for s in fake.bot_messages() if "is queued" in s.content)
    edits = [s for s in log if s.kind == "edit"]
    assert edits and all(e.message_id == queued.message_id for e in edits)
    assert "is ready" in edits[-1].content and edits[-1].components == []
    results = fake.sent(results_id)
    assert [n for n, _, _ in results.files] == [f"portrait-{i}.png" for i in range(1, 5)]
    assert "Landscape 16:9 (banners): your 4 portraits" in results.content
    sizes = {Image.open(io.BytesIO(data)).size for _, data, _ in results.files}
    assert sizes == {size_for("tiny", Aspect.LANDSCAPE)}, sizes  # 88 x 48 on the tiny model
    labels = results.labels()
    assert labels[0].startswith("↻ Retry")
    assert [f"Upscale {i}" for i in range(1, 5)] + [f"Label {i}" for i in range(1, 5)] == [
        x for x in labels if x.startswith(("Upscale", "Label"))
    ]
    assert all(len(cid) <= 100 for cid in results.custom_ids())
    upscaled = fake.bot_messages()[-1]
    assert "upscaled" in upscaled.content and len(upscaled.files) == 1

    # A restart: new core, new client, same database. Old buttons still work.
    mark = len(fake.log)
    async with running_bot(settings, fake) as (client, studio):
        fake.click(client, alice, results_id, results.button("Label 2"))
        await fake.settle()
        labelled = await fake.wait_for(
            lambda s: s.kind == "message" and len(s.files) == 1 and "#2" in s.content, 60
        )
        assert labelled.channel_id == fake.dm_of[alice]

        # The progress message's id survived too: an update under its key edits it.
        progress = Reply("Order #1 is ready ↓ (checked)", edit_key="order-1")
        to = Recipient("discord", str(fake.dm_of[alice]))
        await studio.outboxes["discord"].send(to, progress)
        assert fake.log[-1].kind == "edit" and fake.log[-1].message_id == queued.message_id

        # A wizard button from before is stale: the core says so, where she is.
        fake.click(client, alice, consent.message_id, consent.button("I agree"))
        await fake.settle()
        assert any("earlier message" in s.content for s in fake.bot_messages(mark))

        # A modal opened before the restart is routed by its custom id; its step is
        # over, so the core's "earlier message" answer comes and the text is not used.
        setting = next(s for s in fake.bot_messages() if "Where are you?" in s.content)
        modal_id = next(s.custom_id for s in fake.log if s.callback_type == 9)
        before = len(fake.log)
        fake.submit(client, alice, setting.message_id, modal_id, "on the moon")
        await fake.settle()
        stale = fake.bot_messages(before)
        assert stale and "earlier message" in stale[0].content
        assert not any("moon" in s.content for s in stale)

        # Someone else presses Retry on a shared copy: only they see the refusal.
        bob = fake.user("Bob")
        shared = fake.share(results_id)
        before = len(fake.log)
        fake.click(client, bob, shared, results.button("↻ Retry (new seeds)"))
        await fake.settle()
        answer = [s for s in fake.log[before:] if s.kind in ("message", "followup")]
        assert [s.kind for s in answer] == ["followup"] and answer[0].ephemeral
        assert "belongs to someone else" in answer[0].content
        row = await studio.store.one("SELECT COUNT(*) FROM orders")
        assert row[0] == 1

        # Reporting is the exception: anyone who sees a shared result may report it.
        # The server has a moderation channel and a moderators' role.
        mod_channel, mod_role = 940000000000000001, "930000000000000001"
        fake.guild_channels.add(mod_channel)
        await client.guilds_store.update(
            GUILD_ID, "test", moderator_role_id=mod_role, moderation_channel_id=str(mod_channel)
        )
        before = len(fake.log)
        fake.click(client, bob, shared, results.button("Report 1"))
        await fake.settle()
        asked = [s for s in fake.log[before:] if s.kind in ("message", "followup")]
        assert asked and all(s.kind == "followup" and s.ephemeral for s in asked)
        assert not any("someone else" in s.content for s in asked)
        reasons = asked[-1]
        fake.click(client, bob, reasons.message_id, reasons.button("Impersonation or deception"))
        await fake.settle()
        thanks = fake.last("followup")
        assert thanks.ephemeral and "Your report #1" in thanks.content
        # Nothing public and nothing in Alice's DM: only the moderators' card.
        assert {s.channel_id for s in fake.bot_messages(before)} <= {mod_channel}
        report = await studio.store.one("SELECT reason, reporter_user_id FROM reports")
        reporter = await studio.store.user("discord", str(bob))
        assert tuple(report) == ("deception", reporter["id"])
        card = await fake.wait_for(lambda s: s.kind == "message" and s.channel_id == mod_channel)
        assert "Report #1" in card.content and "Dismiss" in card.labels()
        # Bob has no moderator role: refused, privately. Carol has it: the card is
        # updated in place for all moderators, and Bob hears the decision in his DM.
        carol = fake.user("Carol")
        fake.click(client, bob, card.message_id, card.button("Dismiss"))
        await fake.settle()
        assert "Only moderators" in fake.last("followup").content
        before = len(fake.log)
        fake.click(client, carol, card.message_id, card.button("Dismiss"), roles=[mod_role])
        await fake.settle()
        decided = [s for s in fake.log[before:] if s.kind == "edit"]
        assert [s.message_id for s in decided] == [card.message_id] and not decided[0].components
        assert any(
            s.channel_id == fake.dm_of[bob] and "was reviewed" in s.content
            for s in fake.bot_messages(before)
        )
        assert fake.last("followup").ephemeral and "dismissed" in fake.last("followup").content
    print("\n" + fake.transcript())


async def test_the_outbox_raises_when_discord_fails_so_the_core_keeps_it(settings, fake):
    """Progress and results go through the outbox: a refusal or a 5xx (after discord.py's
    own retries) must reach the core as an exception, never be swallowed. A refusal comes
    as the platform-neutral ChatRefused (the tracker gives up only on those)."""
    async with running_bot(settings, fake) as (_client, studio):
        outbox = studio.outboxes["discord"]
        alice = fake.user("Alice")
        dm = fake.dm_of.setdefault(alice, fake.snowflake())
        fake.fail_next_sends = 1
        with pytest.raises(discord.DiscordServerError):
            await outbox.send(Recipient("discord", str(dm)), Reply("Order #7 is ready"))
        fake.dms_closed.add(alice)
        with pytest.raises(ChatRefused) as refused:
            await outbox.send(Recipient("discord", str(dm)), Reply("Order #7 is ready"))
        assert isinstance(refused.value.__cause__, discord.Forbidden)
        fake.dms_closed.clear()
        await outbox.send(Recipient("discord", str(dm)), Reply("Order #7 is ready"))
    assert [s.content for s in fake.bot_messages()] == ["Order #7 is ready"]


async def test_a_reply_discord_refuses_is_explained_and_the_press_still_counts(settings, fake):
    async with running_bot(settings, fake) as (client, studio):
        alice = fake.user("Alice")
        fake.slash(client, alice, "portrait")
        await fake.settle()
        consent = fake.last()
        fake.fail_next_sends = 1  # a 5xx that outlasted discord.py's retries
        fake.click(client, alice, consent.message_id, consent.button("I agree"))
        await fake.settle()
        failed = fake.last("followup")
        assert failed.ephemeral and "Nothing is lost" in failed.content
        user = await studio.store.user("discord", str(alice))
        assert await studio.store.consent(user["id"]) is not None


async def test_portrait_with_closed_dms_says_how_to_open_them(settings, fake):
    async with running_bot(settings, fake) as (client, _studio):
        bob = fake.user("Bob")
        fake.dms_closed.add(bob)
        fake.slash(client, bob, "portrait")
        await fake.settle()
    assert fake.bot_messages() == []
    [answer] = [s for s in fake.log if s.kind == "followup"]
    assert answer.ephemeral
    assert "Privacy Settings" in answer.content and "Direct Messages" in answer.content
    assert "/portrait" in answer.content


async def test_portrait_inside_the_dm_opens_the_studio_there(settings, fake):
    async with running_bot(settings, fake) as (client, _studio):
        alice = fake.user("Alice")
        dm = fake.dm_of.setdefault(alice, fake.snowflake())
        fake.slash(client, alice, "portrait", channel_id=dm)
        await fake.settle()
        fake.dm(client, alice, "/help")  # typed commands in the DM reach the core too
        await fake.settle()
    consent, help_ = fake.bot_messages()
    assert consent.channel_id == dm and "I agree" in consent.labels()
    assert "open below" in fake.last("followup").content
    assert help_.channel_id == dm and help_.content.startswith("How it works")


async def test_attachments_over_the_limit_or_not_images_are_answered_without_download(
    settings, fake
):
    async with running_bot(settings, fake) as (client, _studio):
        alice = fake.user("Alice")
        fake.slash(client, alice, "portrait")
        await fake.settle()
        fake.click(client, alice, fake.last().message_id, fake.last().button("I agree"))
        await fake.settle()
        big = settings.max_upload_bytes + 1
        fake.dm(
            client,
            alice,
            files=[
                ("huge.jpg", b"\xff\xd8\xff" + bytes(big), "image/jpeg"),
                ("notes.txt", b"hello", "text/plain"),
                ("clip.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
                ("scan.pdf", b"%PDF-1.4", ""),
            ],
        )
        await fake.settle()
    [verdicts] = fake.bot_messages(len(fake.log) - 3)
    lines = verdicts.content.splitlines()
    assert "huge.jpg" in lines[0] and "over the 20.0 MB limit" in lines[0]
    assert "notes.txt is not a photo (text/plain)" in lines[1]
    assert "clip.mp4 is not a photo (video/mp4)" in lines[2]
    assert "scan.pdf is not a photo (application/pdf)" in lines[3]
    assert all("✗" in line for line in lines[:4])
    assert fake.downloads == []


async def test_server_settings_private_threads_and_a_press_by_someone_else(settings, fake):
    async with running_bot(settings, fake, message_content=True) as (client, studio):
        admin, alice, bob = fake.user("Admin"), fake.user("Alice"), fake.user("Bob")
        # Members without Manage Server cannot change settings.
        fake.slash(
            client, alice, "sitter-settings", [{"name": "studio", "type": 3, "value": "thread"}]
        )
        await fake.settle()
        assert "Manage Server" in fake.last("followup").content
        role, mod_channel = "930000000000000001", "940000000000000001"
        fake.slash(
            client,
            admin,
            "sitter-settings",
            [
                {"name": "studio", "type": 3, "value": "thread"},
                {"name": "moderator_role", "type": 8, "value": role},
                {"name": "moderation_channel", "type": 7, "value": mod_channel},
            ],
            permissions=ALL_PERMISSIONS,
            resolved={
                "channels": {
                    mod_channel: {
                        "id": mod_channel,
                        "type": 0,
                        "name": "mod-reports",
                        "permissions": ALL_PERMISSIONS,
                        "guild_id": str(GUILD_ID),
                    }
                },
                "roles": {
                    role: {
                        "id": role,
                        "name": "Mods",
                        "color": 0,
                        "hoist": False,
                        "position": 1,
                        "permissions": "0",
                        "managed": False,
                        "mentionable": True,
                        "flags": 0,
                    }
                },
            },
        )
        await fake.settle()
        shown = fake.last("followup")
        assert shown.ephemeral and "private thread" in shown.content and role in shown.content
        assert f"<#{mod_channel}>" in shown.content
        gs = await client.guilds_store.get(GUILD_ID)
        assert (gs.place, gs.moderator_role_id, gs.moderation_channel_id) == (
            "thread",
            role,
            mod_channel,
        )

        fake.slash(client, alice, "portrait")
        await fake.settle()
        thread = fake.last("thread")
        consent = fake.last()
        assert consent.channel_id == thread.channel_id and "I agree" in consent.labels()
        assert "private thread" in fake.last("followup").content

        # Bob (a moderator who can see private threads) presses Alice's button.
        before = len(fake.log)
        fake.click(client, bob, consent.message_id, consent.button("I agree"), roles=[role])
        await fake.settle()
        assert fake.bot_messages(before) == []  # nothing posted in Alice's thread
        assert all(s.ephemeral for s in fake.log[before:] if s.kind == "followup")
        user = await studio.store.user("discord", str(alice))
        assert await studio.store.consent(user["id"]) is None

        fake.click(client, alice, consent.message_id, consent.button("I agree"))
        await fake.settle()
        assert "Thank you" in fake.bot_messages(before)[0].content
        assert await studio.store.consent(user["id"]) is not None

        # /portrait again: the same thread, no second one.
        fake.slash(client, alice, "portrait")
        await fake.settle()
        assert [s.channel_id for s in fake.log if s.kind == "thread"] == [thread.channel_id]
        assert fake.last().channel_id == thread.channel_id

        # In the thread, Alice's messages are studio input; Bob's and the server's are not.
        before = len(fake.log)
        fake.dm(client, bob, "nice thread", channel_id=thread.channel_id)
        fake.dm(client, alice, "hello everyone", channel_id=CHANNEL_ID)
        await fake.settle()
        assert fake.bot_messages(before) == []
        fake.dm(client, alice, "done", channel_id=thread.channel_id)
        await fake.settle()
        [waiting] = fake.bot_messages(before)
        assert waiting.channel_id == thread.channel_id and "I need at least 4" in waiting.content
        assert CHANNEL_ID not in {s.channel_id for s in fake.bot_messages()}
    print("\n" + fake.transcript())
