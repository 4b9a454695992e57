"""What the reference set says about itself (/photos): the contact sheet's caption and
buttons, removing a photo, starting a new set. The photo verdicts are in
bot/studio/core/words.py (the engine's checks, said when a photo arrives)."""

from __future__ import annotations

REMOVE_BUTTON = "Remove {n}"
NEW_SET_BUTTON = "Start a new set"
NO_PHOTOS_YET = "Your set has no photos yet: send me a few of yourself."
NEW_SET_YES, NEW_SET_KEEP = "Yes, delete them", "Keep my photos"


def new_set_ask(kept: dict[str, int]) -> str:
    """kept: the set's photos by status (accepted, excluded = set aside, pending)."""
    count = sum(kept.values())
    parts = [
        f"{n} {what}"
        for n, what in (
            (kept.get("accepted", 0), "in use"),
            (kept.get("excluded", 0), "set aside"),
            (kept.get("pending", 0), "not checked yet"),
        )
        if n
    ]
    which = f" ({', '.join(parts)})" if len(parts) > 1 else ""
    photos = "the 1 photo" if count == 1 else f"all {count} photos"
    return f"This deletes {photos} of your set{which}, so you can start a new one. Sure?"


def photo_sheet(count: int, aside: list[str]) -> str:
    """The caption of the /photos contact sheet."""
    text = (
        f"Your reference set: {count} photo{'s' if count != 1 else ''}, numbered on the sheet. "
        "Remove one with its button (or type “remove 3”), start a new set, or send more "
        "photos to add them."
    )
    if aside:
        text += "\nSet aside (they look like someone else): " + ", ".join(aside) + "."
    return text


def photo_removed(n: int, name: str, left: int) -> str:
    named = "" if name.startswith("photo") else f" ({name})"  # a chat photo has no name
    return (
        f"Removed photo {n}{named}: deleted, file and all. "
        f"{left} photo{'s' if left != 1 else ''} left in your set."
    )


def no_such_photo(n: int, count: int) -> str:
    if not count:
        return NO_PHOTOS_YET
    return f"There's no photo {n}: your set has photos 1–{count}. Send /photos to see them."


def new_set_started(deleted: int) -> str:
    return (
        f"I deleted the {deleted} photo{'s' if deleted != 1 else ''} of your set. "
        "Send new photos of yourself to start a new one."
    )


def what_to_remove(count: int) -> str:
    return f"Which one? Type “remove” and its number on the sheet (1–{count})."


def flood_summary(files: int, checked: int, ok: int, refused: int) -> str:
    """The first line for a burst of many files (then a line per reason)."""
    return f"{files} files: I checked {checked}, {ok} accepted" + (
        f"; refused: {refused}, by reason:" if refused else "."
    )


def flood_reason(reason: str, names: list[str], shown: int = 4) -> str:
    """One reason of a burst's summary with the files it refused (the first few named)."""
    more = f", … (+{len(names) - shown} more)" if len(names) > shown else ""
    return f"• {reason} ({len(names)}): {', '.join(names[:shown])}{more}"


def waiting_line(n: int) -> str:
    one = n == 1
    return (
        f"{n} photo{'' if one else 's'} I kept while the engine was away still "
        f"wait{'s' if one else ''} to be checked: press Done to check {'it' if one else 'them'}."
    )


SET_NOT_CHECKED = (
    "I couldn't check your reference photos just now, so nothing was ordered. "
    "Please try again in a minute."
)


def two_people_at_order(lines: list[str]) -> str:
    """A set made before the one-person rule turned out to hold two people."""
    return "\n".join(
        [
            "Your reference photos show more than one person, and a set holds one person, "
            "so nothing was ordered:",
            *lines,
            "Look at them in /photos (remove or add photos, then press Done), and order again.",
        ]
    )
