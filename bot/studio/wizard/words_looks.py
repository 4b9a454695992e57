"""The words of the format and subject steps and of /portraits (beside words_chat.py)."""

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


# --- /portraits ------------------------------------------------------------------------------
NO_PORTRAITS = (
    "You have no portraits kept here. Orders older than the retention period are deleted, "
    "and /forget deletes them all; /new paints new ones."
)
OLDER = "Older ▶"
NEWEST = "◀ Newest"
ORDER_GONE = (
    "That order isn't kept any more: past the retention period, or deleted with /forget. "
    "/portraits lists those still kept."
)


def portraits_heading(days: int) -> str:
    return f"Your portraits (kept {days} days), newest first. Press one to see it again:"


def portraits_line(order_id: int, style: str, look: str, when: str, n: int) -> str:
    return f"• #{order_id} {style}{look} – {when}, {n} portrait{'s' if n != 1 else ''}"


def show_button(order_id: int) -> str:
    return f"Show #{order_id}"


def no_older() -> str:
    return "No older portraits."
