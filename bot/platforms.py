"""The chat platforms this install knows: the one list that names them all.

Each adapter registers itself by its ``platform.py`` (bot/adapter.py's ``Platform``: its
token setting, how to build it, what ``sitter doctor`` checks). A new platform adds its
folder and one line here. The terminal chat is no platform: it needs no token.
"""

from __future__ import annotations

from typing import Any

from bot.adapter import Platform
from bot.discord.platform import PLATFORM as DISCORD
from bot.telegram.platform import PLATFORM as TELEGRAM
from sitter import redact

PLATFORMS: tuple[Platform[Any], ...] = (TELEGRAM, DISCORD)  # Any: each its own settings


def configured() -> list[Platform[Any]]:
    """The platforms whose token is set (in the environment or .env)."""
    return [p for p in PLATFORMS if p.load().token is not None]


def install_redaction() -> None:
    """Every platform's token shape, and the tokens configured now, out of every log line."""
    for p in PLATFORMS:
        redact.add_token_shape(p.token_shape, f"<{p.name.lower()}-token>")
        token = p.load().token
        redact.install([token.get_secret_value()] if token is not None else [])
