"""What /language says. Sentences through the catalogs (sitter/i18n.py)."""

from __future__ import annotations

from sitter.i18n import _


def choose() -> str:
    return _("Which language should I speak with you? Pick one below.")


def changed(language: str) -> str:
    return _(
        "From now on I'll speak {language}. Your order and your photos stay as they were."
    ).format(language=language)


def gone() -> str:
    return _("That language is no longer offered. Here are the ones I speak:")
