"""What the reference set says about itself (/photos): the contact sheet's caption and
buttons, removing a photo, starting a new set. The photo verdicts are in
bot/studio/core/words.py (the engine's checks, said when a photo arrives). Through the
catalogs (sitter/i18n.py): constants translated when read."""

from __future__ import annotations

from sitter import i18n
from sitter.i18n import N_, _, ngettext

_WORDS = {
    # LABEL
    "REMOVE_BUTTON": N_("Remove {n}"),
    # LABEL
    "NEW_SET_BUTTON": N_("Start a new set"),
    "NO_PHOTOS_YET": N_("Your set has no photos yet: send me a few of yourself."),
    # LABEL
    "NEW_SET_YES": N_("Yes, delete them"),
    # LABEL
    "NEW_SET_KEEP": N_("Keep my photos"),
    "SET_NOT_CHECKED": N_(
        "I couldn't check your reference photos just now, so nothing was ordered. "
        "Please try again in a minute."
    ),
}


def __getattr__(name: str) -> str:
    """The sentence constants above, in the language being spoken."""
    return i18n.attribute(_WORDS, __name__, name)


def new_set_ask(kept: dict[str, int]) -> str:
    """kept: the set's photos by status (accepted, excluded = set aside, pending)."""
    count = sum(kept.values())
    parts = [
        what.format(n=n)
        for n, what in (
            (kept.get("accepted", 0), _("{n} in use")),
            (kept.get("excluded", 0), _("{n} set aside")),
            (kept.get("pending", 0), _("{n} not checked yet")),
        )
        if n
    ]
    which = f" ({', '.join(parts)})" if len(parts) > 1 else ""
    photos = _("the 1 photo") if count == 1 else _("all {n} photos").format(n=count)
    return _("This deletes {photos} of your set{which}, so you can start a new one. Sure?").format(
        photos=photos, which=which
    )


def photo_sheet(count: int, aside: list[str]) -> str:
    """The caption of the /photos contact sheet."""
    text = ngettext(
        "Your reference set: {n} photo, numbered on the sheet. Remove one with its button "
        "(or type “remove 3”), start a new set, or send more photos to add them.",
        "Your reference set: {n} photos, numbered on the sheet. Remove one with its button "
        "(or type “remove 3”), start a new set, or send more photos to add them.",
        count,
    ).format(n=count)
    if aside:
        text += "\n" + _("Set aside (they look like someone else): {names}.").format(
            names=", ".join(aside)
        )
    return text


def photo_removed(n: int, name: str, left: int) -> str:
    named = "" if name.startswith("photo") else f" ({name})"  # a chat photo has no name
    return ngettext(
        "Removed photo {n}{named}: deleted, file and all. {left} photo left in your set.",
        "Removed photo {n}{named}: deleted, file and all. {left} photos left in your set.",
        left,
    ).format(n=n, named=named, left=left)


def no_such_photo(n: int, count: int) -> str:
    if not count:
        return _(_WORDS["NO_PHOTOS_YET"])
    return _(
        "There's no photo {n}: your set has photos 1–{count}. Send /photos to see them."
    ).format(n=n, count=count)


def new_set_started(deleted: int) -> str:
    return ngettext(
        "I deleted the {n} photo of your set. Send new photos of yourself to start a new one.",
        "I deleted the {n} photos of your set. Send new photos of yourself to start a new one.",
        deleted,
    ).format(n=deleted)


def what_to_remove(count: int) -> str:
    return _("Which one? Type “remove” and its number on the sheet (1–{count}).").format(
        count=count
    )


def flood_summary(files: int, checked: int, ok: int, refused: int) -> str:
    """The first line for a burst of many files (then a line per reason)."""
    if refused:
        text = _(
            "{files} files: I checked {checked}, {ok} accepted; refused: {refused}, by reason:"
        )
    else:
        text = _("{files} files: I checked {checked}, {ok} accepted.")
    return text.format(files=files, checked=checked, ok=ok, refused=refused)


def flood_reason(reason: str, names: list[str], shown: int = 4) -> str:
    """One reason of a burst's summary with the files it refused (the first few named)."""
    more = _(", … (+{n} more)").format(n=len(names) - shown) if len(names) > shown else ""
    return f"• {reason} ({len(names)}): {', '.join(names[:shown])}{more}"


def waiting_line(n: int) -> str:
    return ngettext(
        "{n} photo I kept while the engine was away still waits to be checked: press Done "
        "to check it.",
        "{n} photos I kept while the engine was away still wait to be checked: press Done "
        "to check them.",
        n,
    ).format(n=n)


def two_people_at_order(lines: list[str]) -> str:
    """A set made before the one-person rule turned out to hold two people."""
    return "\n".join(
        [
            _(
                "Your reference photos show more than one person, and a set holds one person, "
                "so nothing was ordered:"
            ),
            *lines,
            _("Look at them in /photos (remove or add photos, then press Done), and order again."),
        ]
    )
