"""What the personal model feature says, through the catalogs (sitter/i18n.py):
constants translated when read, functions with named placeholders.

The consent text is versioned: a change of what the person agrees to is a new
``CONSENT_VERSION`` (the row keeps the version and the words agreed to)."""

from __future__ import annotations

from bot.store.codes import Failure
from sitter import i18n
from sitter.i18n import N_, _

CONSENT_VERSION = "2026-12-08.1"
CONSENT_TEXT = N_(  # recorded in English (the source) with its version
    "Learn a personal model from my reference photos. It is used only for my own "
    "orders and never for anyone else."
)

_WORDS = {
    # LABEL
    "OFFER_BUTTON": N_("✨ Personal model"),
    # LABEL
    "AGREE_BUTTON": N_("Learn my model"),
    # LABEL
    "NOT_NOW_BUTTON": N_("Not now"),
    # LABEL
    "CANCEL_BUTTON": N_("✕ Stop training"),
    # LABEL
    "ON_BUTTON": N_("Use it"),
    # LABEL
    "OFF_BUTTON": N_("Don't use it"),
    # LABEL
    "RETRAIN_BUTTON": N_("Learn it again"),
    "NO_SET_YET": N_(
        "A personal model is learned from your reference photos: send some first (/photos)."
    ),
    "SET_CHANGED": N_("That offer was for photos you have changed since. /train to see it again."),
    "NOT_NOW": N_("All right: no personal model. /train if you change your mind."),
    "ALREADY_TRAINING": N_("Your personal model is being learned already."),
    "PROTECTED": N_(
        "I can't learn a personal model from these photos: one of them shows a face that is "
        "protected (its owner asked not to have it used)."
    ),
    "NO_TRAINER": N_(
        "The studio's engine that learns personal models isn't running right now; your "
        "request waits in line and starts when it is back."
    ),
    "STOPPED": N_("Stopped: the training is cancelled and nothing of it is kept."),
    "NOTHING_TO_STOP": N_("There is no training of yours to stop."),
    "NOT_YOURS": N_("That's not your personal model."),
    "NOT_YOUR_OFFER": N_("That offer was made to someone else."),
    "GONE": N_("That personal model no longer exists."),
    "NO_MODEL": N_("You have no personal model for your current photos. /train to learn one."),
    "PERSONAL_TAG": N_("personal model"),
    "SUMMARY_LINE": N_(
        "Personal model: on (learned from your photos; /personal off to leave it out)"
    ),
    "RESULTS_LINE": N_("Painted with your personal model."),
    "SET_REPLACED": N_(
        "Your personal model was learned from your old set, so I deleted it with the set."
    ),
}


def __getattr__(name: str) -> str:
    """The sentence constants above, in the language being spoken."""
    return i18n.attribute(_WORDS, __name__, name)


def offer(photos: int, minutes: int, cost: int, retention_days: int) -> str:
    """The offer: what it is, where it goes, how long, what it costs."""
    quota = (
        _("It counts as {cost} images of today's limit.").format(cost=cost)
        if cost
        else _("It doesn't count against your daily limit.")
    )
    return _(
        "Personal model (optional): I can learn your face from your {photos} photos into "
        "a small file, a personal model. It is used only for your own orders and never "
        "for anyone else. It is deleted with /forget, when you start a new set or remove "
        "photos, if a moderator removes your photos, and on its own after "
        "{days} days (like your reference photos).\n"
        "It takes about {minutes} minutes; you can keep ordering meanwhile. {quota}"
    ).format(photos=photos, days=retention_days, minutes=minutes, quota=quota)


def offer_after_done(photos: int) -> str:
    return _(
        "With {photos} photos you can also have a personal model learned from them "
        "(optional): /train tells you more."
    ).format(photos=photos)


def need_photos(need: int, have: int) -> str:
    return _(
        "A personal model needs at least {need} accepted photos; your set has {have}. "
        "Send more with /photos."
    ).format(need=need, have=have)


def queued(position: int | None) -> str:
    if position is None:
        return _("Personal model: waiting to start…")
    return _("Personal model: waiting to start (number {n} in line)…").format(n=position + 1)


def running(percent: int, minutes_left: float | None) -> str:
    bar = "▓" * (percent // 10) + "░" * (10 - percent // 10)
    left = ""
    if minutes_left is not None:
        n = round(minutes_left)
        left = _(" · under a minute left") if minutes_left < 1 else _(" · about {n} min left")
        left = left.format(n=n)
    return (
        _("Learning your personal model: {bar} {percent}%").format(bar=bar, percent=percent) + left
    )


def ready(steps: int, on: bool) -> str:
    state = _("It is on") if on else _("It is off")
    return _(
        "Your personal model is ready ({steps} steps). {state}: every order you place with "
        "these photos uses it, and its summary and results say “personal model”. Switch it "
        "with the buttons or /personal on, /personal off."
    ).format(steps=steps, state=state)


def switched(on: bool) -> str:
    return (
        _("Personal model on: your next orders use it.")
        if on
        else _("Personal model off: your next orders use only your photos.")
    )


def outdated(have: int, need: int) -> str:
    again = (
        _("/train learns it again from the photos you kept.")
        if have >= need
        else _("With {need} or more photos I can learn it again (/train).").format(need=need)
    )
    return _(
        "Your personal model is out of date: your set has {have} photos now, and it was "
        "learned from a photo you removed, so I deleted it. {again}"
    ).format(have=have, again=again)


_FAILED: dict[str, str] = {
    Failure.PROTECTED: N_("a photo shows a protected face"),
    "not_supported": N_("the studio's model can't learn personal models"),
    Failure.LOST_SEVERAL_TIMES: N_("the engine lost the training several times"),
    Failure.STOPPED_BY_MODERATOR: N_("it was stopped by a moderator"),
    Failure.REFERENCES_GONE: N_("your reference photos are gone"),
}


def failed(code: str, engine_words: str) -> str:
    """A training that failed, from its stored code (``engine_words``: the engine's
    failure codes in the studio's shared words, for codes not listed here)."""
    why = _(_FAILED[code]) if code in _FAILED else engine_words
    return _("I couldn't learn your personal model: {why}. /train to try again.").format(why=why)


def usage(command: str) -> str:
    return _(
        "/{command} on or /{command} off switches your personal model; /train learns one."
    ).format(command=command)
