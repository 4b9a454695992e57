"""Telegram as the start-up and ``sitter doctor`` see it; imports no chat library."""

from __future__ import annotations

import re

from bot.adapter import Adapter, Check, Platform
from bot.telegram.settings import TOKEN_HELP, TelegramSettings

TOKEN = re.compile(r"^\d{5,14}:[A-Za-z0-9_-]{30,50}$")
# The same shape anywhere in a line (PTB's InvalidToken, its DEBUG Bot API URLs): redacted.
TOKEN_IN_TEXT = re.compile(r"(?<![0-9])\d{5,14}:[A-Za-z0-9_-]{30,}")


def build(sync: bool) -> Adapter:
    from bot.telegram.app import TelegramBot

    return TelegramBot()


def checks(settings: TelegramSettings) -> list[Check]:
    """A malformed token fails before any network; reports need someone to receive them."""
    out = []
    token = settings.token
    if token is not None and not TOKEN.match(token.get_secret_value()):
        out.append(
            Check(
                True,
                "config",
                "SITTER_TELEGRAM_TOKEN does not look like a token (123456789:AA...); copy it "
                "again, without quotes or spaces",
            )
        )
    if not (settings.moderators or settings.moderation_chat):
        out.append(
            Check(
                False,
                "moderation",
                "no Telegram moderators or moderation chat: reports go nowhere. Set "
                "SITTER_TELEGRAM_MODERATORS (user ids) and SITTER_TELEGRAM_MODERATION_CHAT",
            )
        )
    return out


PLATFORM = Platform(
    name="Telegram",
    settings=TelegramSettings,
    token_help=TOKEN_HELP,
    build=build,
    rejected=(
        "InvalidToken",
        "Telegram rejected SITTER_TELEGRAM_TOKEN. Copy the token from @BotFather again "
        "(/mybots > your bot > API Token).",
    ),
    checks=checks,
    token_shape=TOKEN_IN_TEXT,
)
