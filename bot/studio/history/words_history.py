"""What /portraits says: the list of kept orders, its page buttons, an order gone.
Through the catalogs (sitter/i18n.py): constants translated when read."""

from __future__ import annotations

from sitter import i18n
from sitter.i18n import N_, _, ngettext

_WORDS = {
    "NO_PORTRAITS": N_(
        "You have no portraits kept here. Orders older than the retention period are "
        "deleted, and /forget deletes them all; /new paints new ones."
    ),
    # LABEL
    "OLDER": N_("Older ▶"),
    # LABEL
    "NEWEST": N_("◀ Newest"),
    "ORDER_GONE": N_(
        "That order isn't kept any more: past the retention period, or deleted with /forget. "
        "/portraits lists those still kept."
    ),
}


def __getattr__(name: str) -> str:
    """The sentence constants above, in the language being spoken."""
    return i18n.attribute(_WORDS, __name__, name)


def portraits_heading(days: int) -> str:
    return _("Your portraits (kept {days} days), newest first. Press one to see it again:").format(
        days=days
    )


def portraits_line(order_id: int, style: str, look: str, when: str, n: int) -> str:
    return ngettext(
        "• #{id} {style}{look} – {when}, {n} portrait",
        "• #{id} {style}{look} – {when}, {n} portraits",
        n,
    ).format(id=order_id, style=style, look=look, when=when, n=n)


def show_button(order_id: int) -> str:
    # LABEL
    return _("Show #{id}").format(id=order_id)


def no_older() -> str:
    return _("No older portraits.")
