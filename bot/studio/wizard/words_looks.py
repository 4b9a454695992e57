"""The words of the format and subject steps (beside words_chat.py), through the
catalogs (sitter/i18n.py): constants translated when read."""

from __future__ import annotations

from sitter import i18n
from sitter.i18n import N_, _

_WORDS = {
    # LABEL
    "SKIP": N_("Skip"),
    # LABEL
    "SAME_AS_LAST": N_("Same as last time"),
    "DESCRIBE_HOW": N_(
        "Choose one, type a few words (“a woman in her 40s with curly red hair”), or Skip "
        "(“a person”)."
    ),
    "CHOOSE_FORMAT": N_("Choose one with the buttons."),
    "NOT_A_FORMAT": N_("That isn't one of the formats."),
    "NOT_DESCRIBED": N_("a person (not described)"),
}


def __getattr__(name: str) -> str:
    """The sentence constants above, in the language being spoken."""
    return i18n.attribute(_WORDS, __name__, name)


def last_time(text: str) -> str:
    return _("Last time: “{text}”.").format(text=text)


def subject_too_long(n: int, most: int) -> str:
    return _(
        "That's {n} bytes; please keep the description under {most} – a few words are enough."
    ).format(n=n, most=most)


def summary_subject(text: str) -> str:
    return _("Described as: {text}").format(text=text)


def summary_format(label: str) -> str:
    return _("Format: {label}").format(label=label)
