"""What /portraits says: the list of kept orders, its page buttons, an order gone."""

from __future__ import annotations

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
