"""What the personal model feature says (a later issue translates every sentence).

The consent text is versioned: a change of what the person agrees to is a new
``CONSENT_VERSION`` (the row keeps the version and the words agreed to)."""

from __future__ import annotations

from bot.store.codes import Failure

CONSENT_VERSION = "2026-12-08.1"
CONSENT_TEXT = (
    "Learn a personal model from my reference photos. It is used only for my own "
    "orders and never for anyone else."
)

OFFER_BUTTON = "✨ Personal model"
AGREE_BUTTON = "Learn my model"
NOT_NOW_BUTTON = "Not now"
CANCEL_BUTTON = "✕ Stop training"
ON_BUTTON = "Use it"
OFF_BUTTON = "Don't use it"
RETRAIN_BUTTON = "Learn it again"


def offer(photos: int, minutes: int, cost: int, retention_days: int) -> str:
    """The offer: what it is, where it goes, how long, what it costs."""
    quota = (
        f"It counts as {cost} images of today's limit."
        if cost
        else "It doesn't count against your daily limit."
    )
    return (
        f"Personal model (optional): I can learn your face from your {photos} photos into "
        "a small file, a personal model. It is used only for your own orders and never "
        "for anyone else. It is deleted with /forget, when you start a new set or remove "
        "photos, if a moderator removes your photos, and on its own after "
        f"{retention_days} days (like your reference photos).\n"
        f"It takes about {minutes} minutes; you can keep ordering meanwhile. {quota}"
    )


def offer_after_done(photos: int) -> str:
    return (
        f"With {photos} photos you can also have a personal model learned from them "
        "(optional): /train tells you more."
    )


def need_photos(need: int, have: int) -> str:
    return (
        f"A personal model needs at least {need} accepted photos; your set has {have}. "
        "Send more with /photos."
    )


NO_SET_YET = "A personal model is learned from your reference photos: send some first (/photos)."
SET_CHANGED = "That offer was for photos you have changed since. /train to see it again."
NOT_NOW = "All right: no personal model. /train if you change your mind."
ALREADY_TRAINING = "Your personal model is being learned already."
PROTECTED = (
    "I can't learn a personal model from these photos: one of them shows a face that is "
    "protected (its owner asked not to have it used)."
)
NO_TRAINER = (
    "The studio's engine that learns personal models isn't running right now; your "
    "request waits in line and starts when it is back."
)
STOPPED = "Stopped: the training is cancelled and nothing of it is kept."
NOTHING_TO_STOP = "There is no training of yours to stop."
NOT_YOURS = "That's not your personal model."
NOT_YOUR_OFFER = "That offer was made to someone else."
GONE = "That personal model no longer exists."
NO_MODEL = "You have no personal model for your current photos. /train to learn one."


def queued(position: int | None) -> str:
    where = f" (number {position + 1} in line)" if position is not None else ""
    return f"Personal model: waiting to start{where}…"


def running(percent: int, minutes_left: float | None) -> str:
    bar = "▓" * (percent // 10) + "░" * (10 - percent // 10)
    left = ""
    if minutes_left is not None:
        n = round(minutes_left)
        left = " · under a minute left" if minutes_left < 1 else f" · about {n} min left"
    return f"Learning your personal model: {bar} {percent}%{left}"


def ready(steps: int, on: bool) -> str:
    state = "It is on" if on else "It is off"
    return (
        f"Your personal model is ready ({steps} steps). {state}: every order you place with "
        "these photos uses it, and its summary and results say “personal model”. Switch it "
        "with the buttons or /personal on, /personal off."
    )


def switched(on: bool) -> str:
    return (
        "Personal model on: your next orders use it."
        if on
        else "Personal model off: your next orders use only your photos."
    )


PERSONAL_TAG = "personal model"
SUMMARY_LINE = "Personal model: on (learned from your photos; /personal off to leave it out)"
RESULTS_LINE = "Painted with your personal model."


def outdated(have: int, need: int) -> str:
    again = (
        "/train learns it again from the photos you kept."
        if have >= need
        else f"With {need} or more photos I can learn it again (/train)."
    )
    return (
        f"Your personal model is out of date: your set has {have} photos now, and it was "
        f"learned from a photo you removed, so I deleted it. {again}"
    )


SET_REPLACED = "Your personal model was learned from your old set, so I deleted it with the set."

_FAILED: dict[str, str] = {
    Failure.PROTECTED: "a photo shows a protected face",
    "not_supported": "the studio's model can't learn personal models",
    Failure.LOST_SEVERAL_TIMES: "the engine lost the training several times",
    Failure.STOPPED_BY_MODERATOR: "it was stopped by a moderator",
    Failure.REFERENCES_GONE: "your reference photos are gone",
}


def failed(code: str, engine_words: str) -> str:
    """A training that failed, from its stored code (``engine_words``: the engine's
    failure codes in the studio's shared words, for codes not listed here)."""
    why = _FAILED.get(code, engine_words)
    return f"I couldn't learn your personal model: {why}. /train to try again."


def usage(command: str) -> str:
    return f"/{command} on or /{command} off switches your personal model; /train learns one."
