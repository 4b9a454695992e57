"""Discord's own settings (``SITTER_DISCORD_*``): declared here, by its adapter."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from sitter.config import PlatformSettings

TOKEN_HELP = (
    "SITTER_DISCORD_TOKEN is not set: create an application at "
    "https://discord.com/developers/applications, add a Bot, press Reset Token and put the "
    "token in SITTER_DISCORD_TOKEN."
)


class DiscordSettings(PlatformSettings):
    """``SITTER_DISCORD_*`` (the names are a public interface: operators' .env files)."""

    model_config = SettingsConfigDict(env_prefix="SITTER_DISCORD_")

    token: SecretStr | None = Field(
        None, description="From the Discord developer portal (Bot > Reset Token)."
    )
    moderation_guilds: list[int] = Field(
        default_factory=list,
        description="Discord server ids whose moderators (their /sitter-settings role, or "
        "Manage Server) may see and act on reports. Other servers' admins get nothing.",
    )
    message_content: bool = Field(
        False,
        description="Request Discord's privileged Message Content intent (enable it in the "
        "developer portal first); needed only for the studio in private threads.",
    )
