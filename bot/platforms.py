"""The chat platforms this install knows: the one list that names them all.

Each adapter registers itself by its ``platform.py`` (bot/adapter.py's ``Platform``: its
token setting, how to build it, what ``sitter doctor`` checks). A new platform adds its
folder and one line here. The terminal chat is no platform: it needs no token.
"""

from __future__ import annotations

from bot.adapter import Platform
from bot.discord.platform import PLATFORM as DISCORD
from bot.telegram.platform import PLATFORM as TELEGRAM
from sitter.config import Settings

PLATFORMS: tuple[Platform, ...] = (TELEGRAM, DISCORD)


def configured(settings: Settings) -> list[Platform]:
    """The platforms whose token is set."""
    return [p for p in PLATFORMS if p.token(settings) is not None]
