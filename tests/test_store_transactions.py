"""One connection, many tasks: a transaction belongs to the task that began it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.store.store import Store


async def test_another_tasks_write_survives_a_rollback(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "s.db", tmp_path / "media")
    try:
        ann = await store.ensure_user("terminal", "ann", "Ann", "a")
        began = asyncio.Event()

        async def failing_transaction() -> None:
            with pytest.raises(RuntimeError):
                async with store.tx():
                    await store.run("UPDATE users SET display_name = 'X' WHERE id = ?", ann["id"])
                    began.set()
                    await asyncio.sleep(0.05)  # another task writes meanwhile
                    raise RuntimeError("this transaction fails")

        async def unrelated_write() -> None:
            await began.wait()
            await store.save_session(ann["id"], "style", {"style": "watercolor"})

        await asyncio.gather(failing_transaction(), unrelated_write())
        session = await store.session(ann["id"])
        assert session is not None and session.state == "style"  # not rolled back with the other
        assert (await store.user_by_id(ann["id"]))["display_name"] == "Ann"  # the failed tx undone
    finally:
        await store.close()


async def test_nested_transactions_in_one_task_join(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "s.db", tmp_path / "media")
    try:
        async with store.tx():
            user = await store.ensure_user("terminal", "bob", "Bob", "b")
            async with store.tx():
                await store.record_consent(user["id"], "v1", "text")
        assert await store.consent(user["id"]) is not None
    finally:
        await store.close()


async def test_adapter_writes_wait_for_another_tasks_transaction(tmp_path: Path) -> None:
    """Discord's tables (server settings, studio threads, message ids, the commands'
    digest) are written through the Store's lock: a rollback elsewhere keeps them."""
    from bot.discord.command_sync import META_KEY
    from bot.discord.guild_settings import GuildSettingsStore
    from bot.discord.message_keys import MessageKeys

    store = await Store.open(tmp_path / "s.db", tmp_path / "media")
    try:
        ann = await store.ensure_user("discord", "700", "Ann", "900")
        began = asyncio.Event()

        async def failing_transaction() -> None:
            with pytest.raises(RuntimeError):
                async with store.tx():
                    await store.run("UPDATE users SET display_name = 'X' WHERE id = ?", ann["id"])
                    began.set()
                    await asyncio.sleep(0.05)  # the adapter writes meanwhile
                    raise RuntimeError("this transaction fails")

        async def adapter_writes() -> None:
            await began.wait()
            guilds = GuildSettingsStore(store)
            await guilds.update(5, "op", moderation_channel_id="1001")
            await guilds.add_thread(880011, 5, 700)
            await MessageKeys(store).put("o1", 900, 42)
            await store.set_meta(META_KEY, "digest")

        await asyncio.gather(failing_transaction(), adapter_writes())
        assert (await GuildSettingsStore(store).get(5)).moderation_channel_id == "1001"
        assert await GuildSettingsStore(store).thread_owner(880011) == "700"
        sent = await MessageKeys(store).get("o1")
        assert sent is not None and (sent.chat_id, sent.message_id) == ("900", "42")
        assert await store.meta_value(META_KEY) == "digest"
        assert await store.moderation_channels(["5", "6"]) == ["1001"]
        assert (await store.user_by_id(ann["id"]))["display_name"] == "Ann"  # the failed tx undone
    finally:
        await store.close()
