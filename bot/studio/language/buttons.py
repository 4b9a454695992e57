"""/language's buttons, ``lg:<n>``: the n-th offered locale (sitter.i18n.offered()). They
work before consent (the consent text is read in the chosen language). Its CODECS are
loaded by the one grammar."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.studio.core.buttons import IdCodec, IdPress


@dataclass(frozen=True)
class LanguagePress(IdPress):
    kinds = frozenset({"lg"})
    least: ClassVar[int] = 0
    needs_consent: ClassVar[bool] = False


CODECS = (IdCodec(LanguagePress),)


def language(n: int) -> str:
    return LanguagePress("lg", n).data
