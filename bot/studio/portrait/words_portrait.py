"""The words of one portrait's follow-ups: its More menu, avatars, vary and relight.

Kept apart from words_chat.py so the follow-ups' sentences sit together; every
sentence a person reads about them is here (never the engine's own).
"""

from __future__ import annotations

import re

from sitter import i18n
from sitter.contract import AvatarProblem
from sitter.i18n import N_, _

_WORDS = {
    # LABEL
    "MORE_BUTTON": N_("More {n}…"),
    # LABEL
    "AVATAR_BUTTON": N_("Avatar {n}"),
    # LABEL
    "VARY_SUBTLE_BUTTON": N_("Vary {n} (subtle)"),
    # LABEL
    "VARY_STRONG_BUTTON": N_("Vary {n} (strong)"),
    # LABEL
    "RELIGHT_BUTTON": N_("Relight {n}"),
    # LABEL
    "MORE_LIKE_BUTTON": N_("More like #{n} (4)"),
    # LABEL
    "OWN_LIGHT_BUTTON": N_("My own words"),
    "MID_WIZARD": N_(
        "You're choosing a new portrait right now: finish it or /cancel it, then press "
        "Relight again to describe the light in your own words."
    ),
    "LIGHT_GONE": N_("That light is no longer offered. Here are the lights there are now:"),
    "OTHER_LIGHT": N_(" Describe another light, or pick one of the lights under Relight."),
    "LIGHT_EMPTY": N_("Describe the light in a few words, e.g. “soft window light”."),
    "NOT_FOR_PACKS": N_(
        "I can't find the look of the pack this portrait came from any more, so I can't vary "
        "or relight it; it can still be upscaled, labelled or made into an avatar."
    ),
}


def __getattr__(name: str) -> str:
    """The sentence constants above, in the language being spoken."""
    return i18n.attribute(_WORDS, __name__, name)


STRENGTH_WORDS = {"subtle": N_("subtle"), "strong": N_("strong")}


def _strength(strength: str) -> str:
    return _(STRENGTH_WORDS[strength]) if strength in STRENGTH_WORDS else strength


def more_like_queued(order_id: int, n: int, of_order: int, look: str) -> str:
    return _("Order #{id}: four more like portrait #{n} of order #{of} ({look}).").format(
        id=order_id, n=n, of=of_order, look=look
    )


def portrait_menu(n: int) -> str:
    return _(
        "What shall I do with portrait #{n}?\n"
        "• Avatar: a round-safe square crop on the face, 512 and 1024 px, as files.\n"
        "• Vary: four new portraits from this one (subtle keeps close to it, strong "
        "moves further), checked for likeness like any order.\n"
        "• Relight: the same portrait under another light."
    ).format(n=n)


def ask_light(n: int) -> str:
    return _("Which light for portrait #{n}? Pick one, or choose “{own}”.").format(
        n=n, own=_(_WORDS["OWN_LIGHT_BUTTON"])
    )


def type_light(n: int, most: int) -> str:
    return _(
        "Describe the light for portrait #{n} in a message (up to {most} characters), "
        "e.g. “candlelight from the left”."
    ).format(n=n, most=most)


def light_too_long(n: int, most: int) -> str:
    return _("That's {n} characters; describe the light in at most {most}.").format(n=n, most=most)


def refine_queued_caption(kind: str, n: int, strength: str, light: str) -> str:
    """What the order does, in its results message: 'portrait #2 of order #7, varied'."""
    if kind == "vary":
        return _("{strength} variations of portrait #{n}").format(strength=_strength(strength), n=n)
    return _("portrait #{n} relit with {light}").format(n=n, light=light)


def refined_text(kind: str, of_order: int, of_idx: int, strength: str, light: str) -> str:
    """The line above a vary/relight order's portraits (its C2PA parent named)."""
    if kind == "vary":
        what = _("Four {strength} variations of portrait #{n}").format(
            strength=_strength(strength), n=of_idx
        )
    else:
        what = _("Portrait #{n} relit with {light}").format(n=of_idx, light=light)
    return _(
        "{what} (order #{order}). Each keeps the AI labels, with portrait #{n} "
        "named as its parent in the signed C2PA manifest."
    ).format(what=what, order=of_order, n=of_idx)


def avatars_done(n: int, sizes: list[int], again: bool) -> str:
    px = " and ".join(f"{s}×{s}" for s in sizes)
    text = _(
        "Avatars of portrait #{n}: {px} px, centred on the face and safe for a round "
        "frame, each with the “Made with AI” label inside the circle and a signed C2PA "
        "manifest naming portrait #{n} as its parent. Sent as files so that metadata stays."
    ).format(n=n, px=px)
    return (_("Here they are again: ") + text) if again else text


_AVATAR_PROBLEMS: dict[AvatarProblem, str] = {
    AvatarProblem.NOT_A_PORTRAIT: N_(
        "it doesn't carry this studio's AI labels, and I only make avatars of portraits I painted"
    ),
    AvatarProblem.UNREADABLE: N_("I couldn't read the picture"),
    AvatarProblem.NO_FACE: N_("I can't find a face in it to centre an avatar on"),
    AvatarProblem.SEVERAL_FACES: N_(
        "I see more than one face in it, so I don't know whose avatar to make"
    ),
    AvatarProblem.FACE_AT_EDGE: N_(
        "the face is too close to the edge: a round avatar would cut it off"
    ),
    AvatarProblem.FACE_TOO_LARGE: N_(
        "the face fills too much of the picture to fit inside a round avatar"
    ),
    AvatarProblem.TOO_SMALL: N_("the face is too small in it for a sharp avatar"),
}


def avatar_refused(n: int, problem: str) -> str:
    """An avatar the engine would not cut: why, by the problem's code (never its sentence)."""
    try:
        why = _(_AVATAR_PROBLEMS[AvatarProblem(problem)])
    except ValueError:
        why = _("it can't be cropped to a round avatar")
    return _(
        "I can't make an avatar of portrait #{n}: {why}. Try a portrait with the whole "
        "face and some room around it (a head-and-shoulders one works best)."
    ).format(n=n, why=why)


def about_order(order_id: int | None, text: str) -> str:
    """A message about one portrait names its order ("#2" alone is every order's #2)."""
    return _("Order #{id}: {text}").format(id=order_id, text=text) if order_id else text


def follow_up_under_way(verb: str, n: int) -> str:
    return _("{verb} #{n} is already under way; I'll send it when it's ready.").format(
        verb=_(verb), n=n
    )


def follow_up_started(verb: str, n: int) -> str:
    return _("{verb} #{n}… I'll send it as a file when it's ready.").format(verb=_(verb), n=n)


def follow_up_done(n: int, what: str, method: str, again: bool) -> str:
    # Only the size is said: the stored method also names the upscaler's internals.
    size = re.search(r"\d+×\d+", method or "")
    if size:
        text = _("Portrait #{n} {what} to {size}.").format(n=n, what=_(what), size=size.group())
    else:
        text = _("Portrait #{n} {what}.").format(n=n, what=_(what))
    if again:
        text = _("Here it is again: ") + text
    return text + " " + _("Sent as a file so its AI provenance metadata stays intact.")


def follow_up_failed(verb: str, n: int, error: str) -> str:
    return _("Sorry, {verb} #{n} failed: {error}.").format(verb=_(verb).lower(), n=n, error=error)
