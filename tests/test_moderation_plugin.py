"""Moderation is a typed StudioPlugin (no getattr probes) and names no platform:
adapters say where reports go when they attach."""

from __future__ import annotations

import re
from pathlib import Path

from bot.studio.core import buttons as b
from bot.studio.core.core import Studio
from bot.studio.core.plugin import StudioPlugin
from bot.studio.moderation import Moderation, Place
from sitter.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
MODERATION = ROOT / "bot" / "studio" / "moderation"


async def test_moderation_is_a_studio_plugin(
    data_dir: Path, redis_url: str, queue_prefix: str
) -> None:
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    studio = await Studio.open(settings)
    try:
        mod = studio.moderation
        assert isinstance(mod, Moderation) and isinstance(mod, StudioPlugin)
        assert mod.commands == {"report", "protect", "unprotect", "mod", "reports", "ban"}
        for data in ("rep:5", "rep:5:me", "rep:n:2", "mod:3:dis", "rep:" + "9" * 20):
            assert mod.owns(b.parse(data)), data
        for data in ("w:1:go", "u:5", "f:1", "report:1", ""):
            assert not mod.owns(b.parse(data)), data
        assert mod.owns(b.parse(b.report(7))) and mod.owns(b.parse(b.moderator(7, "show")))
        assert await mod.tick() == 0
    finally:
        await studio.aclose()


async def test_reports_go_where_the_adapters_say(
    data_dir: Path, redis_url: str, queue_prefix: str
) -> None:
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    studio = await Studio.open(settings)
    try:
        mod = studio.moderation
        assert isinstance(mod, Moderation)
        assert (await mod.targets()).recipients("a") == []  # nobody registered: nobody

        async def chats() -> list[str]:
            return ["b1", "b2"]

        async def broken() -> list[str]:
            raise RuntimeError("table absent")

        mod.add_place("a", Place(chats=("a1",)))
        mod.add_place("b", Place(chats=chats, user_is_chat=True))
        mod.add_place("c", Place(chats=broken))
        targets = await mod.targets()
        assert targets.chats("b") == ("b1", "b2") and targets.chats("c") == ()
        assert [r.chat_id for r in targets.recipients("a")] == ["a1"]  # its own moderators
        assert [r.chat_id for r in targets.recipients("c")] == ["a1", "b1", "b2"]  # else all
        assert mod.desk.places.private_chat("b", "42", "last") == "42"
        assert mod.desk.places.private_chat("a", "42", "last") == "last"
    finally:
        await studio.aclose()


def test_moderation_names_no_platform() -> None:
    names = re.compile(r"telegram|discord|terminal", re.I)
    found = {
        p.name: [n for n, line in enumerate(p.read_text().splitlines(), 1) if names.search(line)]
        for p in sorted(MODERATION.glob("*.py"))
    }
    assert {k: v for k, v in found.items() if v} == {}
