"""Telegram's own settings (``SITTER_TELEGRAM_*``): declared here, by its adapter."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from sitter.config import PlatformSettings

TOKEN_HELP = (
    "SITTER_TELEGRAM_TOKEN is not set: create a bot with @BotFather in Telegram (/newbot) "
    "and put the token it gives you in SITTER_TELEGRAM_TOKEN."
)


class TelegramSettings(PlatformSettings):
    """``SITTER_TELEGRAM_*`` (the names are a public interface: operators' .env files)."""

    model_config = SettingsConfigDict(env_prefix="SITTER_TELEGRAM_")

    token: SecretStr | None = Field(None, description="From @BotFather on Telegram.")
    api_url: str = Field(
        "https://api.telegram.org",
        description="Bot API base URL; point it at a self-hosted Bot API server for big files.",
    )
    moderators: list[int] = Field(
        default_factory=list, description="Telegram user ids allowed to moderate."
    )
    moderation_chat: int | None = Field(None, description="Chat id for reports.")
