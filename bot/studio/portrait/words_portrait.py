"""The words of one portrait's follow-ups: its More menu, avatars, vary and relight.

Kept apart from words_chat.py so the follow-ups' sentences sit together; every
sentence a person reads about them is here (never the engine's own).
"""

from __future__ import annotations

import re

from sitter.contract import AvatarProblem

MORE_BUTTON = "More {n}…"
AVATAR_BUTTON = "Avatar {n}"
VARY_SUBTLE_BUTTON = "Vary {n} (subtle)"
VARY_STRONG_BUTTON = "Vary {n} (strong)"
RELIGHT_BUTTON = "Relight {n}"
MORE_LIKE_BUTTON = "More like #{n} (4)"
OWN_LIGHT_BUTTON = "My own words"

STRENGTH_WORDS = {"subtle": "subtle", "strong": "strong"}


def more_like_queued(order_id: int, n: int, of_order: int, look: str) -> str:
    return f"Order #{order_id}: four more like portrait #{n} of order #{of_order} ({look})."


def portrait_menu(n: int) -> str:
    return (
        f"What shall I do with portrait #{n}?\n"
        "• Avatar: a round-safe square crop on the face, 512 and 1024 px, as files.\n"
        "• Vary: four new portraits from this one (subtle keeps close to it, strong "
        "moves further), checked for likeness like any order.\n"
        "• Relight: the same portrait under another light."
    )


def ask_light(n: int) -> str:
    return f"Which light for portrait #{n}? Pick one, or choose “{OWN_LIGHT_BUTTON}”."


def type_light(n: int, most: int) -> str:
    return (
        f"Describe the light for portrait #{n} in a message (up to {most} characters), "
        "e.g. “candlelight from the left”."
    )


MID_WIZARD = (
    "You're choosing a new portrait right now: finish it or /cancel it, then press "
    "Relight again to describe the light in your own words."
)
LIGHT_GONE = "That light is no longer offered. Here are the lights there are now:"
OTHER_LIGHT = " Describe another light, or pick one of the lights under Relight."
LIGHT_EMPTY = "Describe the light in a few words, e.g. “soft window light”."


def light_too_long(n: int, most: int) -> str:
    return f"That's {n} characters; describe the light in at most {most}."


def refine_queued_caption(kind: str, n: int, strength: str, light: str) -> str:
    """What the order does, in its results message: 'portrait #2 of order #7, varied'."""
    if kind == "vary":
        return f"{STRENGTH_WORDS.get(strength, strength)} variations of portrait #{n}"
    return f"portrait #{n} relit with {light}"


def refined_text(kind: str, of_order: int, of_idx: int, strength: str, light: str) -> str:
    """The line above a vary/relight order's portraits (its C2PA parent named)."""
    if kind == "vary":
        what = f"Four {STRENGTH_WORDS.get(strength, strength)} variations of portrait #{of_idx}"
    else:
        what = f"Portrait #{of_idx} relit with {light}"
    return (
        f"{what} (order #{of_order}). Each keeps the AI labels, with portrait #{of_idx} "
        "named as its parent in the signed C2PA manifest."
    )


def avatars_done(n: int, sizes: list[int], again: bool) -> str:
    px = " and ".join(f"{s}×{s}" for s in sizes)
    text = (
        f"Avatars of portrait #{n}: {px} px, centred on the face and safe for a round "
        "frame, each with the “Made with AI” label inside the circle and a signed C2PA "
        f"manifest naming portrait #{n} as its parent. Sent as files so that metadata stays."
    )
    return ("Here they are again: " + text) if again else text


_AVATAR_PROBLEMS: dict[AvatarProblem, str] = {
    AvatarProblem.NOT_A_PORTRAIT: (
        "it doesn't carry this studio's AI labels, and I only make avatars of portraits I painted"
    ),
    AvatarProblem.UNREADABLE: "I couldn't read the picture",
    AvatarProblem.NO_FACE: "I can't find a face in it to centre an avatar on",
    AvatarProblem.SEVERAL_FACES: "I see more than one face in it, so I don't know whose "
    "avatar to make",
    AvatarProblem.FACE_AT_EDGE: "the face is too close to the edge: a round avatar would "
    "cut it off",
    AvatarProblem.FACE_TOO_LARGE: "the face fills too much of the picture to fit inside a "
    "round avatar",
    AvatarProblem.TOO_SMALL: "the face is too small in it for a sharp avatar",
}


def avatar_refused(n: int, problem: str) -> str:
    """An avatar the engine would not cut: why, by the problem's code (never its sentence)."""
    try:
        why = _AVATAR_PROBLEMS[AvatarProblem(problem)]
    except ValueError:
        why = "it can't be cropped to a round avatar"
    return (
        f"I can't make an avatar of portrait #{n}: {why}. Try a portrait with the whole "
        "face and some room around it (a head-and-shoulders one works best)."
    )


NOT_FOR_PACKS = (
    "I can't find the look of the pack this portrait came from any more, so I can't vary "
    "or relight it; it can still be upscaled, labelled or made into an avatar."
)


def about_order(order_id: int | None, text: str) -> str:
    """A message about one portrait names its order ("#2" alone is every order's #2)."""
    return f"Order #{order_id}: {text}" if order_id else text


def follow_up_under_way(verb: str, n: int) -> str:
    return f"{verb} #{n} is already under way; I'll send it when it's ready."


def follow_up_started(verb: str, n: int) -> str:
    return f"{verb} #{n}… I'll send it as a file when it's ready."


def follow_up_done(n: int, what: str, method: str, again: bool) -> str:
    # Only the size is said: the stored method also names the upscaler's internals.
    size = re.search(r"\d+×\d+", method or "")
    text = f"Portrait #{n} {what}" + (f" to {size.group()}" if size else "") + "."
    if again:
        text = "Here it is again: " + text
    return text + " Sent as a file so its AI provenance metadata stays intact."


def follow_up_failed(verb: str, n: int, error: str) -> str:
    return f"Sorry, {verb.lower()} #{n} failed: {error}."
