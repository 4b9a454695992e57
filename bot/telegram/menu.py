"""The command menu Telegram shows beside the message box, in each offered language:
``setMyCommands`` once per language (Telegram picks the list by the client's language,
a two-letter code), the English list for everyone else."""

from __future__ import annotations

from sitter import i18n
from sitter.i18n import N_

PRIVATE_COMMANDS = [
    ("start", N_("Start a portrait order (consent, photos, style)")),
    ("status", N_("Where my order is")),
    ("portraits", N_("My portraits still kept")),
    ("pet", N_("A portrait of my cat or dog (its own photo set)")),
    ("train", N_("A personal model learned from my photos (optional)")),
    ("together", N_("A portrait of two people: invite someone, answer, withdraw")),
    ("cancel", N_("Cancel the current step or queued order")),
    ("help", N_("What the bot does and how")),
    ("privacy", N_("What is kept, for how long, and why")),
    ("forget", N_("Delete everything the bot keeps about me")),
    ("language", N_("The language I speak with you")),
]
GROUP_COMMANDS = {name for name, _ in PRIVATE_COMMANDS} | {"portrait"}


def menus() -> list[tuple[str, list[tuple[str, str]]]]:
    """(Telegram's language code, '' for the default; the commands in that language)."""
    out: list[tuple[str, list[tuple[str, str]]]] = [("", list(PRIVATE_COMMANDS))]
    for code in i18n.offered():
        if code == i18n.SOURCE:
            continue
        with i18n.use(code):
            out.append((code.split("_")[0], [(n, i18n._(d)) for n, d in PRIVATE_COMMANDS]))
    return out
