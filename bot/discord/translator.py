"""Slash command descriptions, option descriptions and choices in each member's
language: discord.py's ``app_commands.Translator`` over the studio's catalogs
(sitter/i18n.py). Discord asks once per locale when the commands are uploaded and shows
each member the text for their client's language. Command and option names stay as they
are (``/portrait``, like ``/start`` and ``/forget`` everywhere)."""

from __future__ import annotations

import hashlib

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from sitter import i18n

_NAMES = (Where.command_name, Where.group_name, Where.parameter_name)


class CatalogTranslator(app_commands.Translator):
    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        code = i18n.known(locale.value)
        if code is None or code == i18n.SOURCE or context.location in _NAMES:
            return None  # Discord shows the English
        with i18n.use(code):
            text = i18n._(string.message)
        return text if text != string.message else None


def catalogs_digest() -> str:
    """Changes when a catalog does: the commands are uploaded again with new words."""
    h = hashlib.sha256()
    for code in i18n.offered():
        path = i18n.po_path(code)
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()[:16]
