"""Discord as the start-up and ``sitter doctor`` see it; imports no chat library."""

from __future__ import annotations

import re

from bot.adapter import Adapter, Check, Platform
from bot.discord.settings import TOKEN_HELP, DiscordSettings

TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,40}\.[A-Za-z0-9_-]{5,10}\.[A-Za-z0-9_-]{20,60}$")
# Three base64url parts, the first a user id, anywhere in a line: redacted in logs.
TOKEN_IN_TEXT = re.compile(r"[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,40}")


def build(sync: bool) -> Adapter:
    from bot.discord.app import DiscordBot

    return DiscordBot(sync=sync)


def checks(settings: DiscordSettings) -> list[Check]:
    """A malformed token fails before any network; reports need a server to go to."""
    out = []
    token = settings.token
    if token is not None and not TOKEN.match(token.get_secret_value()):
        out.append(
            Check(
                True,
                "config",
                "SITTER_DISCORD_TOKEN does not look like a token (three parts with dots); copy "
                "it again, without quotes or spaces",
            )
        )
    if not settings.moderation_guilds:
        out.append(
            Check(
                False,
                "moderation",
                "no Discord moderation server: reports go nowhere. Set "
                "SITTER_DISCORD_MODERATION_GUILDS (server ids)",
            )
        )
    return out


PLATFORM = Platform(
    name="Discord",
    settings=DiscordSettings,
    token_help=TOKEN_HELP,
    build=build,
    rejected=(
        "LoginFailure",
        "Discord rejected SITTER_DISCORD_TOKEN. Reset it in the developer portal "
        "(Bot > Reset Token) and set it again.",
    ),
    checks=checks,
    token_shape=TOKEN_IN_TEXT,
)
