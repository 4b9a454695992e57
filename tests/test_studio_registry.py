"""The feature folders register themselves (issue 20): each family of button data is
read by the codec its folder registered with the one grammar (still range-checked),
each typed press and each feature command has its one handler, and a prefix cannot
be taken twice."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.studio.core import buttons as b
from bot.studio.core.core import Studio
from bot.studio.history.buttons import HistoryPress
from bot.studio.orders.buttons import OrderPress
from bot.studio.portrait.buttons import FollowUpPress, MenuPress, PortraitCodec, PortraitPress
from bot.studio.rights.buttons import ForgetPress


def test_each_family_is_read_by_its_features_codec() -> None:
    top = b.MAX_ID
    assert b.parse(f"r:{top}") == OrderPress("r", top)
    assert b.parse("q:3") == OrderPress("q", 3)
    assert b.parse("u:3") == FollowUpPress("u", 3) and b.parse("a:3") == FollowUpPress("a", 3)
    assert b.parse("m:3") == MenuPress("m", 3)
    assert b.parse("p:3:light:own") == PortraitPress(3, "light", "own")
    assert b.parse("hp:3") == HistoryPress("hp", 3)
    assert b.parse("f:0") == ForgetPress("f", 0)  # a revision may be 0
    for stale in ("r:0", "u:-1", f"m:{top + 1}", "h:+3", "p:3:paint", "q:3:4", "f:x"):
        assert b.parse(stale) is None, stale
    assert b.item("l", 9) == "l:9"  # the grammar builds a family by its kind
    with pytest.raises(ValueError):
        b.item("z", 9)  # a kind no feature registered


@dataclass(frozen=True)
class Clash(b.IdPress):
    kinds = frozenset({"u"})  # a second feature wanting upscale's prefix


def test_a_prefix_belongs_to_one_codec() -> None:
    grammar = b.Grammar()
    grammar.register(PortraitCodec(), b.IdCodec(FollowUpPress))
    grammar.register(b.IdCodec(FollowUpPress))  # the same codec again: nothing changes
    with pytest.raises(ValueError, match="'u' is registered twice"):
        grammar.register(b.IdCodec(Clash))
    assert grammar.parse("u:4") == FollowUpPress("u", 4)


async def test_every_press_and_feature_command_has_its_handler(fake_studio: Studio) -> None:
    routes = fake_studio.routes
    for data in ("r:1", "q:1", "u:1", "l:1", "a:1", "m:1", "p:1:vary:subtle", "h:1", "f:1"):
        pressed = b.parse(data)
        assert pressed is not None and routes.press(pressed) is not None, data
    assert {"photos", "done", "status", "portraits", "forget"} <= set(routes.commands)
    assert routes.always == {"forget"}
    assert "own_light" in fake_studio.conversation.steps  # the portrait feature's side step
