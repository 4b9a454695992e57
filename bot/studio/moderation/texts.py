"""What moderation says and the codes its buttons carry (reasons, decisions)."""

from __future__ import annotations

import re

from bot.store.store import Row
from bot.studio.core.events import Button, Reply, Who

# "/report rep:123", "/report #123" or "/report 123": ASCII digits only ("²".isdigit()).
TARGET = re.compile(r"(?:rep:|#)?([0-9]{1,12})")
MAX_TARGETS = 10
NOTE_MAX = 1000
REPORTS_PER_DAY = 10  # per reporter: enough for a real case, not for flooding the queue
SELFIE_MINUTES = 15
ANALYZE_TIMEOUT_S = 120.0

REASONS: dict[str, tuple[str, str]] = {
    # code in the button: (stored reason, what the reporter picks)
    "me": ("not_me", "It's me and I did not consent"),
    "sex": ("sexual", "Sexual or degrading"),
    "min": ("minor", "Shows a minor"),
    "dec": ("deception", "Impersonation or deception"),
    "oth": ("other", "Something else"),
}
REASON_WORDS = {stored: label for stored, label in REASONS.values()}
REASON_WORDS["protect_request"] = "A request to protect a face"  # /protect, not their own

ACTIONS: dict[str, tuple[str, str]] = {
    # code in the button: (decision stored, button label)
    "dis": ("dismiss", "Dismiss"),
    "rm": ("remove", "Remove images"),
    "pur": ("purge", "Purge owner's photos"),
    "pro": ("protect", "Protect this face"),
    "ban": ("ban", "Ban owner"),
}
DECISION_WORDS = {
    "dismiss": "dismissed (no action)",
    "remove": "portraits removed",
    "purge": "portraits removed and the owner's reference photos deleted",
    "protect": "portraits removed, reference photos deleted and the face protected",
    "ban": "portraits removed, reference photos deleted and the owner banned",
}
STALE = "That button doesn't work any more."


def reason_lower(reason: str) -> str:
    label = REASON_WORDS.get(reason, reason)
    return label[0].lower() + label[1:]


def actor(who: Who) -> str:
    return f"{who.platform}:{who.user_id}"


def signed(who: Who) -> str:
    """The actor with their name, as decisions are signed in the log and on the card."""
    return actor(who) + (f" ({who.name})" if who.name else "")


def say(text: str, *rows: tuple[Button, ...], edit_key: str | None = None) -> Reply:
    return Reply(text=text, buttons=tuple(r for r in rows if r), edit_key=edit_key)


def ban_words(reason: str | None) -> str:
    why = f" ({reason})" if reason else ""
    return (
        f"A moderator has suspended your access to Sitter{why}. I won't answer other "
        "messages. /privacy and /forget still work."
    )


def person(name: str | None, platform: str | None, pid: str | None, uid: int | None) -> str:
    if uid is None or platform is None:
        return "(deleted account)"
    label = name or "(no name)"
    return f"{label} ({platform}:{pid}, user #{uid})"


def decided_line(r: Row, lead: str = "Decided") -> str:
    return (
        f"{lead}: {DECISION_WORDS.get(r['decision'], r['decision'])}, "
        f"by {r['decided_by']} at {r['decided_at']}."
    )
