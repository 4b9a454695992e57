"""/forget's confirmation, ``f:<rev>``: it carries the session's revision (0 and up)
and works even for a suspended account. Its CODECS are loaded by the one grammar."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.studio.core.buttons import IdCodec, IdPress


@dataclass(frozen=True)
class ForgetPress(IdPress):
    kinds = frozenset({"f"})
    least: ClassVar[int] = 0
    always: ClassVar[bool] = True


CODECS = (IdCodec(ForgetPress),)


def forget(rev: int) -> str:
    return ForgetPress("f", rev).data
