"""Discord as the start-up and ``sitter doctor`` see it; imports no chat library."""

from __future__ import annotations

import re

from bot.adapter import Adapter, Check, Platform
from sitter.config import Settings

TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,40}\.[A-Za-z0-9_-]{5,10}\.[A-Za-z0-9_-]{20,60}$")
TOKEN_HELP = (
    "SITTER_DISCORD_TOKEN is not set: create an application at "
    "https://discord.com/developers/applications, add a Bot, press Reset Token and put the "
    "token in SITTER_DISCORD_TOKEN."
)


def build(sync: bool) -> Adapter:
    from bot.discord.app import DiscordBot

    return DiscordBot(sync=sync)


def checks(settings: Settings) -> list[Check]:
    """A malformed token fails before any network; reports need a server to go to."""
    out = []
    token = settings.discord_token
    if token is not None and not TOKEN.match(token.get_secret_value()):
        out.append(
            Check(
                True,
                "config",
                "SITTER_DISCORD_TOKEN does not look like a token (three parts with dots); copy "
                "it again, without quotes or spaces",
            )
        )
    if not settings.discord_moderation_guilds:
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
    token=lambda s: s.discord_token,
    token_help=TOKEN_HELP,
    build=build,
    rejected=(
        "LoginFailure",
        "Discord rejected SITTER_DISCORD_TOKEN. Reset it in the developer portal "
        "(Bot > Reset Token) and set it again.",
    ),
    checks=checks,
)
