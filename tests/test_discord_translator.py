"""Slash command descriptions and choices through app_commands.Translator (issue 26):
the payload discord.py uploads carries each offered language, names stay English."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.discord.commands import install
from bot.discord.translator import CatalogTranslator


class _Host:
    def __init__(self) -> None:
        self.tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))


async def test_descriptions_are_uploaded_in_every_language() -> None:
    host: Any = _Host()
    install(host)
    await host.tree.set_translator(CatalogTranslator())
    translator = host.tree.translator
    portrait = host.tree.get_command("portrait")
    payload = await portrait.get_translated_payload(host.tree, translator)
    loc = payload["description_localizations"]
    assert loc["ru"].startswith("Открыть студию")
    assert loc["es-ES"].startswith("Abrir el estudio")
    assert loc["pt-BR"].startswith("Abrir o estúdio")
    assert loc["es-419"] == loc["es-ES"]  # Latin American Spanish reads the same catalog
    # Discord has no Arabic client locale: Arabic speakers there pick it with /language.
    assert "ar" not in {x.value for x in discord.Locale}
    assert "de" not in loc  # no catalog: Discord shows the English
    assert not payload.get("name_localizations")  # /portrait stays /portrait
    settings = host.tree.get_command("sitter-settings")
    payload = await settings.get_translated_payload(host.tree, translator)
    studio = next(o for o in payload["options"] if o["name"] == "studio")
    assert studio["choices"][0]["name_localizations"]["es-ES"] == "Mensajes directos"
