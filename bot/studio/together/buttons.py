"""Portraits together's buttons (registered with the core grammar):

- ``ti:0`` invite someone (the Portrait together button after Done);
- ``ta``/``td``/``tx``/``tg`` ``:<invitation>``: accept, decline, withdraw, make a
  portrait with this invitation (each checked against the person where it is read);
- ``tz``/``tr`` ``:<order>``: delete a joint order's portraits (either person), retry it
  (either person; charged to the one who ordered).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.studio.core.buttons import IdCodec, IdPress


@dataclass(frozen=True)
class InvitePress(IdPress):
    kinds = frozenset({"ti"})
    least: ClassVar[int] = 0


@dataclass(frozen=True)
class InvitationPress(IdPress):
    kinds = frozenset({"ta", "td", "tx", "tg"})
    needs_consent: ClassVar[bool] = False  # declining or withdrawing needs none


@dataclass(frozen=True)
class JointPress(IdPress):
    kinds = frozenset({"tz", "tr"})


CODECS = (IdCodec(InvitePress), IdCodec(InvitationPress), IdCodec(JointPress))


def invite() -> str:
    return InvitePress("ti", 0).data


def invitation(kind: str, invitation_id: int) -> str:
    return InvitationPress(kind, invitation_id).data


def joint(kind: str, order_id: int) -> str:
    return JointPress(kind, order_id).data
