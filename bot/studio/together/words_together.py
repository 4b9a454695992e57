"""Every sentence of portraits together (made when sent; the DB keeps codes only),
through the catalogs (sitter/i18n.py): constants translated when read."""

from __future__ import annotations

from sitter import i18n
from sitter.i18n import N_, _

#: The invitation's own text version: accepting records it (consent, versioned).
INVITATION_VERSION = "together-1"

_WORDS = {
    # LABEL
    "TOGETHER_BUTTON": N_("👥 Portrait together"),
    # LABEL
    "ACCEPT": N_("✓ Accept"),
    # LABEL
    "DECLINE": N_("✗ Decline"),
    # LABEL
    "WITHDRAW": N_("Withdraw"),
    # LABEL
    "MAKE_IT": N_("Make our portrait"),
    # LABEL
    "DELETE_JOINT": N_("Delete our portraits"),
    # LABEL
    "RETRY_FOR_BOTH": N_("↻ Retry (charged to {name})"),
    "NEED_SET_FIRST": N_(
        "A portrait together starts from your own ready photo set: send me your photos if "
        "you haven't yet, press Done (or /done; photos added since your last order wait for "
        "it too), then /together again."
    ),
    "BANNED_INVITER": N_("Your account is suspended, so you cannot invite anyone."),
    "NOT_FOUND": N_(
        "That invitation code is not one I know (or it was already used). Ask the person who "
        "invited you to send a new one."
    ),
    "EXPIRED": N_("That invitation has expired. Ask for a new one."),
    "ENDED": N_("That invitation was withdrawn or already answered."),
    "OWN_INVITATION": N_(
        "That's your own invitation: pass it on to the person you want to be painted with."
    ),
    "OTHER_PLATFORM": N_(
        "That invitation was made in another chat app: open it there, where you were invited."
    ),
    "INVITEE_BANNED": N_("This person cannot be invited."),
    "TAKEN": N_("That invitation was already opened by someone else. Ask for a new one."),
    "NOT_YOURS": N_("That invitation is not yours to answer."),
    "DECLINED_SELF": N_("Declined. Nothing was shared, and they will be told you said no."),
    "WITHDRAWN_SELF": N_(
        "Withdrawn. No new portraits of the two of you can be made; a queued one was stopped."
    ),
    "NO_MEMBER": N_("Name a member of a server we share: /together @member."),
    "SELF_INVITE": N_("You can't invite yourself."),
    "PLACEMENT_QUESTION": N_("how do the two of you stand?"),
    "NOT_A_PLACEMENT": N_("That is not one of the placements: please use a button."),
    "PARTNER_NOT_READY": N_(
        "{name}'s photo set is not ready any more, so a portrait of the two of you can't be "
        "made now. They can send photos again; the invitation stays."
    ),
    "TOGETHER_ENDED": N_(
        "The invitation for portraits together has ended, so this order can't be made."
    ),
    "NOT_IN_THIS": N_("This portrait belongs to someone else."),
    "JOINT_DELETED": N_(
        "Deleted: order #{id}'s portraits of the two of you are gone, for both of you."
    ),
    "NO_SUCH_JOINT": N_("Those portraits are no longer stored."),
    "SAME_FACE": N_(
        "Both photo sets show the same face: a portrait together is of two different people, "
        "each painted from their own photos (a second account of one person is not a partner)."
    ),
}


def __getattr__(name: str) -> str:
    """The sentence constants above, in the language being spoken."""
    return i18n.attribute(_WORDS, __name__, name)


PLACEMENTS: dict[str, str] = {
    "side_by_side": N_("Side by side"),
    "shoulder_to_shoulder": N_("Shoulder to shoulder"),
    "facing": N_("Facing each other"),
    "back_to_back": N_("Back to back"),
}


def placement_label(key: str) -> str:
    """A placement's words, in the language being spoken ("?" for one no longer offered)."""
    return _(PLACEMENTS[key]) if key in PLACEMENTS else "?"


def invitation_made(link: str, hours: int) -> str:
    return _(
        "Here is your invitation for a portrait of the two of you. Pass it on to the "
        "person you want to be painted with:\n\n{link}\n\n"
        "It works once and expires in {hours} hours: the first person to open it is the "
        "one invited, so send it only to them. They answer in their own chat with me, with "
        "their own photos; nobody can upload someone else. I'll tell you the name of who "
        "accepted before anything is painted. /together shows it again or withdraws it."
    ).format(link=link, hours=hours)


def invitation_code(code: str) -> str:
    return f"/start {code}"


def invitation_sent(name: str, hours: int) -> str:
    return _(
        "I've sent your invitation to {name}'s direct messages. It expires in {hours} "
        "hours; /together withdraws it."
    ).format(name=name, hours=hours)


def terms(inviter: str) -> str:
    """What accepting agrees to (the card's middle; recorded, without a name, with the
    consent: :data:`CONSENT_TEXT`)."""
    return _(
        "What will be made: portraits showing both of you, painted from your own reference "
        "photos and theirs (your photos are never shown to {inviter}).\n"
        "Who receives them: both of you, each in your own chat; {inviter} orders them "
        "and it counts against their daily limit.\n"
        "Either of you can withdraw at any time (a queued order stops) and delete the "
        "portraits; /forget by either of you deletes every portrait of the two of you, "
        "for both."
    ).format(inviter=inviter)


#: The words the second person agrees to, recorded (in English, the source) with their
#: consent (kind ``together``, version :data:`INVITATION_VERSION`).
CONSENT_TEXT = (
    "What will be made: portraits showing both of you, painted from your own reference "
    "photos and theirs (your photos are never shown to the person who invited you).\n"
    "Who receives them: both of you, each in your own chat; the person who invited you "
    "orders them and it counts against their daily limit.\n"
    "Either of you can withdraw at any time (a queued order stops) and delete the "
    "portraits; /forget by either of you deletes every portrait of the two of you, "
    "for both."
)


def invitation_card(inviter: str, hours_left: int) -> str:
    return _(
        "{inviter} invites you to a portrait of the two of you.\n\n{terms}\n\n"
        "Accepting is your consent to this. The invitation expires in {hours} hours."
    ).format(inviter=inviter, terms=terms(inviter), hours=hours_left)


def needs_consent_first(inviter: str) -> str:
    return _(
        "{inviter} invites you to a portrait of the two of you. First agree to how the "
        "studio works and send your own photos; the invitation waits for you (/together "
        "shows it)."
    ).format(inviter=inviter)


def needs_set_first(inviter: str) -> str:
    return _(
        "{inviter} invites you to a portrait of the two of you. It needs your own ready "
        "photo set: send me your photos and press Done, then /together to answer. The "
        "invitation waits for you."
    ).format(inviter=inviter)


def accepted_self(inviter: str) -> str:
    return _(
        "Accepted. {inviter} can now order portraits of the two of you; you'll get them "
        "here too. /together withdraws your consent at any time."
    ).format(inviter=inviter)


def accepted_inviter(name: str) -> str:
    return _(
        "{name} accepted your invitation. Choose a style for the portrait of the two of you:"
    ).format(name=name)


def declined_inviter(name: str) -> str:
    return _("{name} declined your invitation for a portrait together.").format(name=name)


def withdrawn_other(name: str) -> str:
    return _(
        "{name} withdrew from portraits together: no new ones can be made, and a queued "
        "one was stopped."
    ).format(name=name)


def open_line(n: int, other: str, status: str, mine: bool) -> str:
    role = _("you invited {other}") if mine else _("{other} invited you")
    states = {
        "open": N_("not opened yet"),
        "claimed": N_("waiting for an answer"),
        "accepted": N_("accepted"),
    }
    what = _(states[status]) if status in states else status
    return f"{n}. {role.format(other=other)}: {what}"


def list_heading() -> str:
    return _("Your portraits together:")


def summary_placement(label: str, partner: str = "") -> str:
    if partner:
        return _("Placement: {label} (with {partner})").format(label=label, partner=partner)
    return _("Placement: {label}").format(label=label)


def partner_results(inviter: str, order_id: int) -> str:
    return _(
        "Order #{id}: portraits of you and {inviter}, ordered by {inviter}. "
        "Upscale, label or report them here; Delete removes them for both of you."
    ).format(id=order_id, inviter=inviter)
