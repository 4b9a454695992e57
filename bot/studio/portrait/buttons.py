"""A delivered portrait's buttons, read by the one grammar, which loads CODECS:

- ``u:<variation>`` upscale, ``l:<variation>`` label, ``a:<variation>`` avatar (the
  follow-ups' table, followups.py), ``m:<variation>`` the portrait's More menu;
- ``p:<variation>:<action>[:<arg>]``: ``vary`` with ``subtle``/``strong``; ``light``
  (the lighting menu), with a preset's number in prompts/wizard.toml's lighting step
  or ``own`` (typed next).

All are checked against the portrait's owner where they are read.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.studio.core.buttons import IdCodec, IdPress, Pressed, checked, number, read_id

PORTRAIT_ACTIONS = frozenset({"vary", "light", "like"})  # like: four more of a look


#: Each follow-up kind's button (variation_jobs.kind -> prefix): the one list of them.
#: followups.py's table reads its rows' buttons here and checks that every row has one.
FOLLOW_UP_BUTTONS = {"upscale": "u", "label": "l", "avatar": "a"}


@dataclass(frozen=True)
class FollowUpPress(IdPress):
    """``u``/``l``/``a`` + the portrait's id: a follow-up job of that portrait."""

    kinds = frozenset(FOLLOW_UP_BUTTONS.values())


@dataclass(frozen=True)
class MenuPress(IdPress):
    """``m:<variation>``: the portrait's More menu (avatar, vary, relight)."""

    kinds = frozenset({"m"})


@dataclass(frozen=True)
class PortraitPress(Pressed):
    """``p:<variation>:<action>[:<arg>]``: vary or relight one portrait."""

    variation: int
    action: str  # vary, light
    arg: str = ""

    @property
    def data(self) -> str:
        if self.action not in PORTRAIT_ACTIONS:
            raise ValueError(f"unknown portrait action {self.action!r}")
        tail = f":{self.arg}" if self.arg else ""
        return checked(f"p:{number(self.variation)}:{self.action}{tail}")


class PortraitCodec:
    prefixes = frozenset({"p"})

    def read(self, parts: list[str]) -> Pressed | None:
        if len(parts) not in (3, 4) or parts[2] not in PORTRAIT_ACTIONS:
            return None
        vid = read_id(parts[1])
        arg = parts[3] if len(parts) == 4 else ""
        if vid is None or (len(parts) == 4 and not arg):
            return None
        return PortraitPress(vid, parts[2], arg)


CODECS = (IdCodec(FollowUpPress), IdCodec(MenuPress), PortraitCodec())


def follow_up(kind: str, variation_id: int) -> str:
    return FollowUpPress(kind, variation_id).data


def menu(variation_id: int) -> str:
    return MenuPress("m", variation_id).data


def portrait(variation_id: int, action: str, arg: str = "") -> str:
    return PortraitPress(variation_id, action, arg).data
