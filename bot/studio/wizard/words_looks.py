"""The words of the format and subject steps (beside words_chat.py)."""

from __future__ import annotations

SKIP = "Skip"
SAME_AS_LAST = "Same as last time"
DESCRIBE_HOW = (
    "Choose one, type a few words (“a woman in her 40s with curly red hair”), or Skip (“a person”)."
)
CHOOSE_FORMAT = "Choose one with the buttons."
NOT_A_FORMAT = "That isn't one of the formats."
NOT_DESCRIBED = "a person (not described)"


def last_time(text: str) -> str:
    return f"Last time: “{text}”."


def subject_too_long(n: int, most: int) -> str:
    return f"That's {n} bytes; please keep the description under {most} – a few words are enough."


def summary_subject(text: str) -> str:
    return f"Described as: {text}"


def summary_format(label: str) -> str:
    return f"Format: {label}"
