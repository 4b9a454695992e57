"""Every sentence of portraits together (made when sent; the DB keeps codes only)."""

from __future__ import annotations

#: The invitation's own text version: accepting records it (consent, versioned).
INVITATION_VERSION = "together-1"

TOGETHER_BUTTON = "👥 Portrait together"
ACCEPT = "✓ Accept"
DECLINE = "✗ Decline"
WITHDRAW = "Withdraw"
MAKE_IT = "Make our portrait"
DELETE_JOINT = "Delete our portraits"
RETRY_FOR_BOTH = "↻ Retry (charged to {name})"

NEED_SET_FIRST = (
    "A portrait together starts from your own ready photo set: send me your photos and "
    "press Done first, then /together."
)
BANNED_INVITER = "Your account is suspended, so you cannot invite anyone."
NOT_FOUND = (
    "That invitation code is not one I know (or it was already used). Ask the person who "
    "invited you to send a new one."
)
EXPIRED = "That invitation has expired. Ask for a new one."
ENDED = "That invitation was withdrawn or already answered."
OWN_INVITATION = "That's your own invitation: pass it on to the person you want to be painted with."
OTHER_PLATFORM = (
    "That invitation was made in another chat app: open it there, where you were invited."
)
INVITEE_BANNED = "This person cannot be invited."
TAKEN = "That invitation was already opened by someone else. Ask for a new one."
NOT_YOURS = "That invitation is not yours to answer."
DECLINED_SELF = "Declined. Nothing was shared, and they will be told you said no."
WITHDRAWN_SELF = (
    "Withdrawn. No new portraits of the two of you can be made; a queued one was stopped."
)
NO_MEMBER = "Name a member of a server we share: /together @member."
SELF_INVITE = "You can't invite yourself."
PLACEMENT_QUESTION = "how do the two of you stand?"
NOT_A_PLACEMENT = "That is not one of the placements: please use a button."
PARTNER_NOT_READY = (
    "{name}'s photo set is not ready any more, so a portrait of the two of you can't be "
    "made now. They can send photos again; the invitation stays."
)
TOGETHER_ENDED = "The invitation for portraits together has ended, so this order can't be made."
SAME_FACE = (
    "Both photo sets show the same face: a portrait together is of two different people, "
    "each painted from their own photos (a second account of one person is not a partner)."
)
NOT_IN_THIS = "This portrait belongs to someone else."
JOINT_DELETED = "Deleted: order #{id}'s portraits of the two of you are gone, for both of you."
NO_SUCH_JOINT = "Those portraits are no longer stored."

PLACEMENTS: dict[str, str] = {
    "side_by_side": "Side by side",
    "shoulder_to_shoulder": "Shoulder to shoulder",
    "facing": "Facing each other",
    "back_to_back": "Back to back",
}


def invitation_made(link: str, hours: int) -> str:
    return (
        "Here is your invitation for a portrait of the two of you. Pass it on to the "
        f"person you want to be painted with:\n\n{link}\n\n"
        f"It works once and expires in {hours} hours: the first person to open it is the "
        "one invited, so send it only to them. They answer in their own chat with me, with "
        "their own photos; nobody can upload someone else. I'll tell you the name of who "
        "accepted before anything is painted. /together shows it again or withdraws it."
    )


def invitation_code(code: str) -> str:
    return f"/start {code}"


def invitation_sent(name: str, hours: int) -> str:
    return (
        f"I've sent your invitation to {name}'s direct messages. It expires in {hours} "
        "hours; /together withdraws it."
    )


def terms(inviter: str) -> str:
    """What accepting agrees to (the card's middle; stored, without a name, with the
    consent: :data:`CONSENT_TEXT`)."""
    return (
        "What will be made: portraits showing both of you, painted from your own reference "
        f"photos and theirs (your photos are never shown to {inviter}).\n"
        f"Who receives them: both of you, each in your own chat; {inviter} orders them "
        "and it counts against their daily limit.\n"
        "Either of you can withdraw at any time (a queued order stops) and delete the "
        "portraits; /forget by either of you deletes every portrait of the two of you, "
        "for both."
    )


#: The words the second person agrees to, recorded with their consent (kind ``together``).
CONSENT_TEXT = terms("the person who invited you")


def invitation_card(inviter: str, hours_left: int) -> str:
    return (
        f"{inviter} invites you to a portrait of the two of you.\n\n{terms(inviter)}\n\n"
        f"Accepting is your consent to this. The invitation expires in {hours_left} hours."
    )


def needs_consent_first(inviter: str) -> str:
    return (
        f"{inviter} invites you to a portrait of the two of you. First agree to how the "
        "studio works and send your own photos; the invitation waits for you (/together "
        "shows it)."
    )


def needs_set_first(inviter: str) -> str:
    return (
        f"{inviter} invites you to a portrait of the two of you. It needs your own ready "
        "photo set: send me your photos and press Done, then /together to answer. The "
        "invitation waits for you."
    )


def accepted_self(inviter: str) -> str:
    return (
        f"Accepted. {inviter} can now order portraits of the two of you; you'll get them "
        "here too. /together withdraws your consent at any time."
    )


def accepted_inviter(name: str) -> str:
    return f"{name} accepted your invitation. Choose a style for the portrait of the two of you:"


def declined_inviter(name: str) -> str:
    return f"{name} declined your invitation for a portrait together."


def withdrawn_other(name: str) -> str:
    return (
        f"{name} withdrew from portraits together: no new ones can be made, and a queued "
        "one was stopped."
    )


def open_line(n: int, other: str, status: str, mine: bool) -> str:
    role = f"you invited {other}" if mine else f"{other} invited you"
    what = {
        "open": "not opened yet",
        "claimed": "waiting for an answer",
        "accepted": "accepted",
    }.get(status, status)
    return f"{n}. {role}: {what}"


def list_heading() -> str:
    return "Your portraits together:"


def summary_placement(label: str, partner: str = "") -> str:
    return f"Placement: {label}" + (f" (with {partner})" if partner else "")


def partner_results(inviter: str, order_id: int) -> str:
    return (
        f"Order #{order_id}: portraits of you and {inviter}, ordered by {inviter}. "
        "Upscale, label or report them here; Delete removes them for both of you."
    )
