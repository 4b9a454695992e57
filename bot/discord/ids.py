"""Custom ids of the components the adapter puts on messages.

Every id is rebuilt from the id alone after a restart: the core's button data
travels inside it (the core keeps it short enough for Telegram's 64 bytes), so
nothing is looked up in memory. Discord allows at most 100 characters.
"""

from __future__ import annotations

MAX_CUSTOM_ID = 100

PRESS = "sitter:b:"  # a button the core made: the data follows
FREE_TEXT = "sitter:t:"  # a button that opens a modal for typed input
MODAL = "sitter:m:"  # the modal itself; its submit carries the same data
PICK = "sitter:p:"  # a select menu of presets; each option's value is core data

PRESS_TEMPLATE = r"sitter:b:(?P<data>.+)"
FREE_TEXT_TEMPLATE = r"sitter:t:(?P<data>.+)"
PICK_TEMPLATE = r"sitter:p:(?P<n>\d{1,2})"

MAX_OPTION_VALUE = 100


def make(prefix: str, data: str) -> str:
    """Build a custom id, refusing data that would not fit (a core bug, said clearly)."""
    if not data:
        raise ValueError("button data is empty")
    custom_id = prefix + data
    if len(custom_id) > MAX_CUSTOM_ID:
        raise ValueError(
            f"button data {data!r} is {len(data)} characters; Discord custom ids take "
            f"{MAX_CUSTOM_ID}, so the data must stay under {MAX_CUSTOM_ID - len(prefix)}"
        )
    return custom_id


def modal_data(custom_id: str) -> str | None:
    """The core data carried by a modal's custom id, or None if it is not ours."""
    return custom_id[len(MODAL) :] if custom_id.startswith(MODAL) else None
