"""Why a job failed, in the studio's own words: by the failure's code, never the
engine's sentence (re-exported by :mod:`bot.studio.core.words`)."""

from __future__ import annotations

from bot.store.codes import Failure, read, stored
from sitter.contract import FailureCode
from sitter.i18n import N_, _


def copy_withheld(n: int) -> str:
    """An upscaled or labelled copy the safety check withheld."""
    return _("I withheld this copy of #{n}: it did not pass the safety check.").format(n=n)


# Why a job failed, for people (said after "Sorry, order #N failed: "). The engine's own
# message goes to the log only: it is written for operators, and a protected face must be
# refused in these neutral words whatever the engine says.
_FAILURE_WORDS: dict[FailureCode, str] = {
    FailureCode.BAD_REQUEST: N_("the studio's engine could not read the order"),
    FailureCode.BAD_IMAGE: N_("the image could not be read or processed"),
    FailureCode.PROMPT_TOO_LONG: N_(
        "the description is too long for this model; shorten your own answers (attire, "
        "setting, lighting, composition) and order again"
    ),
    FailureCode.REFUSED_PROMPT: N_(
        "the studio's content check read your answers as nude, sexual or about a minor, "
        "so nothing was painted; Sitter makes portraits of adults in clothes that are fine "
        "to show anyone: change your answers and order again"
    ),
    FailureCode.IDENTITY_MISMATCH: N_(
        "your photos were measured with a different face model than the studio uses now; "
        "send them again with /photos"
    ),
    FailureCode.PROTECTED: N_(
        "a reference photo shows a face that is protected (its owner asked not to have it "
        "used), so nothing was painted; /photos to send others"
    ),
    FailureCode.WITHHELD: N_("it did not pass the safety check"),
    FailureCode.NOT_AVAILABLE: N_("the studio can't do this right now"),
    FailureCode.NOT_SUPPORTED: N_("the studio's model can't do this"),
    FailureCode.NOT_READY: N_("the studio's engine was still starting up"),
    FailureCode.OUT_OF_MEMORY: N_("the studio's engine ran out of memory"),
    FailureCode.DROPPED: N_("the job was stopped"),
    FailureCode.INTERNAL: N_("the studio's engine hit an unexpected error"),
    FailureCode.LOST: N_("the studio's engine lost the job"),
    FailureCode.BAD_RESULT: N_("the studio's engine sent an answer I could not read"),
    FailureCode.ENGINE_OUTDATED: N_(
        "the studio's engine is older than this bot and can't take this order yet "
        "(the operator must upgrade it)"
    ),
    FailureCode.TIMED_OUT: N_("the studio's engine took too long"),
    FailureCode.UNKNOWN: N_("something went wrong in the studio's engine"),
}


def prompt_too_long(tokens: int | None, limit: int | None) -> str:
    """The refusal when an order's words are too long for the model's text encoder."""
    size = _(" ({tokens} tokens, at most {limit})").format(tokens=tokens, limit=limit)
    return _(
        "The description is too long for this model{size}: shorten your own answers "
        "(attire, setting, lighting, composition) and order again."
    ).format(size=size if tokens and limit else "")


# The studio's own reasons for a failed or stopped order or follow-up, stored as codes
# (bot/store/codes.py): ``error=wf.REFERENCES_GONE`` writes the code, never words.
REFERENCES_GONE = Failure.REFERENCES_GONE
LOST_SEVERAL_TIMES = Failure.LOST_SEVERAL_TIMES
NO_PORTRAITS = Failure.NO_PORTRAITS
STOPPED_BY_MODERATOR = Failure.STOPPED_BY_MODERATOR
REMOVED_BY_MODERATOR = Failure.REMOVED_BY_MODERATOR
ACCOUNT_SUSPENDED = Failure.ACCOUNT_SUSPENDED
PORTRAIT_GONE = Failure.PORTRAIT_GONE

_OWN_WORDS: dict[Failure, str] = {
    Failure.REFERENCES_GONE: N_("the reference photos are gone"),
    Failure.LOST_SEVERAL_TIMES: N_("the engine lost the job several times"),
    Failure.NO_PORTRAITS: N_("the engine made no portraits"),
    Failure.STOPPED_BY_MODERATOR: N_("stopped by a moderator"),
    Failure.REMOVED_BY_MODERATOR: N_("removed by a moderator"),
    Failure.ACCOUNT_SUSPENDED: N_("the account is suspended"),
    Failure.PORTRAIT_GONE: N_("the portrait is gone"),
    Failure.PORTRAIT_REMOVED: N_("that portrait was removed"),
    Failure.COPY_WITHHELD: _FAILURE_WORDS[FailureCode.WITHHELD],
    Failure.AVATAR_REFUSED: N_("it can't be cropped to a round avatar"),
}


def stored_failure(error: str | None, n: int | None = None) -> str:
    """The words for a failure as stored with an order, a look or a follow-up (its code,
    bot/store/codes.py); ``n``: the portrait's number, for a withheld copy. A sentence
    left by an older version that the migration did not know reads as the generic
    words (it may hold the engine's paths and ids)."""
    code, _params = read(error)
    if code == Failure.COPY_WITHHELD and n is not None:
        return copy_withheld(n)
    if code in _OWN_WORDS:
        return _(_OWN_WORDS[code])
    return _(_FAILURE_WORDS[FailureCode.of(code.value)])


# A pet's order the worker can't paint (its model family paints people only, or its pet
# models are missing): said instead of the generic words, which left the owner guessing.
_PET_WORDS: dict[FailureCode, str] = {
    FailureCode.NOT_SUPPORTED: N_(
        "the studio's current model paints people only, not cats or dogs; the operator "
        "must run a model that paints pets (FLUX.2 klein) before a pet's portrait can be made"
    ),
    FailureCode.NOT_AVAILABLE: N_(
        "the studio can't do pets right now (its pet models are not installed); "
        "try again later or ask the operator"
    ),
}


def pet_failure(error: str | None) -> str | None:
    """The pet-specific words for a pet order's stored failure (None: the usual words)."""
    code, _params = read(error)
    found = _PET_WORDS.get(FailureCode.of(code.value))
    return _(found) if found else None


def pet_failure_words(code: str) -> str:
    """A pet's job's failure (a photo check of a pet's set) by its code."""
    found = _PET_WORDS.get(FailureCode.of(code))
    return _(found) if found else failure_words(code)


def engine_failure(code: str) -> str:
    """The ``error`` column's value for an engine's failure code (unknown: UNKNOWN)."""
    return stored(Failure.of(FailureCode.of(code).value))


def failure_words(code: str) -> str:
    """A failed job's reason in plain words, by its code only (a code this bot does not
    know, e.g. a newer engine's, gets the generic words)."""
    return _(_FAILURE_WORDS[FailureCode.of(code)])
