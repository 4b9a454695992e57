"""The feature folders register themselves (issue 20): each family of button data is
read by the codec its folder registered with the one grammar (still range-checked),
each typed press and each feature command has its one handler, and a prefix cannot
be taken twice."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.studio.core import buttons as b
from bot.studio.core.core import Studio
from bot.studio.history.buttons import HistoryPress
from bot.studio.moderation import Moderation
from bot.studio.orders.buttons import OrderPress
from bot.studio.portrait.buttons import FollowUpPress, MenuPress, PortraitCodec, PortraitPress
from bot.studio.rights.buttons import ForgetPress

ROOT = Path(__file__).resolve().parents[1]


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
    assert routes.always == {"forget", "language"}  # /language: before consent too
    assert "own_light" in fake_studio.conversation.steps  # the portrait feature's side step


def test_every_family_works_whatever_was_imported_first() -> None:
    """The grammar loads every feature's codec itself: a job building a retry button
    (``b.item("r", 1)``) works in a process that never imported bot.studio.orders."""
    import subprocess
    import sys

    code = (
        "from bot.studio.core import buttons as b\n"
        "assert b.item('r', 1) == 'r:1' and b.item('m', 2) == 'm:2'\n"
        "p = b.parse('r:1')\n"
        "assert type(p).__name__ == 'OrderPress' and p.id == 1, p\n"
        "assert type(b.parse('h:3')).__name__ == 'HistoryPress'\n"
        "assert type(b.parse('f:0')).__name__ == 'ForgetPress'\n"
        "assert type(b.parse('p:3:vary:subtle')).__name__ == 'PortraitPress'\n"
    )
    alone = "import sys\nassert not [m for m in sys.modules if m.startswith('bot.studio.')]\n"
    for first in (alone, "import bot.studio.jobs.results\n"):
        done = subprocess.run(
            [sys.executable, "-c", first + code], capture_output=True, text=True, cwd=ROOT
        )
        assert done.returncode == 0, (first, done.stderr)


async def test_a_feature_cannot_take_a_command_answered_before_it(fake_studio: Studio) -> None:
    """The conversation's own commands and the moderation plugin's are answered first: a
    feature registering one of them would never be reached, so it is refused."""

    async def handler(turn: object) -> list[object]:
        return []

    routes = fake_studio.routes
    for name in ("help", "privacy", "start", "cancel", "new", "report", "ban", "mod"):
        with pytest.raises(ValueError, match=f"/{name} is answered before"):
            routes.on_command(name, handler)  # type: ignore[arg-type]
        assert name not in routes.commands
    routes.on_command("gallery", handler)  # type: ignore[arg-type]
    assert "gallery" in routes.commands

    class Hiding(Moderation):  # a plugin naming a feature's command
        commands = frozenset({"gallery"})

    with pytest.raises(ValueError, match="would hide the features' /gallery"):
        fake_studio.moderation = object.__new__(Hiding)


def test_follow_up_buttons_are_listed_once() -> None:
    """The follow-ups' table takes its buttons from the codec's one list (no second copy)."""
    from bot.studio.portrait import buttons as pb
    from bot.studio.portrait.followups import BY_BUTTON, FOLLOW_UPS

    assert FollowUpPress.kinds == frozenset(pb.FOLLOW_UP_BUTTONS.values())
    assert {f.kind: f.button for f in FOLLOW_UPS} == pb.FOLLOW_UP_BUTTONS
    assert {b_: f.kind for b_, f in BY_BUTTON.items()} == {
        v: k for k, v in pb.FOLLOW_UP_BUTTONS.items()
    }


def test_the_core_imports_no_feature_but_where_the_studio_is_put_together() -> None:
    """Features register with the core and are handed to it; the core's modules import
    none of them (core.py, the facade, puts them together). The one exception left:
    words.py re-exports the failure words of jobs/ (jobs/ still reads them from there)."""
    import ast

    allowed = {("words.py", "bot.studio.jobs.words_failures")}
    found = []
    for path in sorted((ROOT / "bot" / "studio" / "core").glob("*.py")):
        if path.name == "core.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                node.body = []  # types only: no import at run time
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                feature = name.startswith("bot.studio.") and not name.startswith("bot.studio.core")
                if feature and (path.name, name) not in allowed:
                    found.append((path.name, name))
    assert found == []
