"""The wizard's first two steps, consent and the reference photos, and idle."""

from __future__ import annotations

from bot.store.codes import IN_FLIGHT
from bot.studio.core import buttons as b
from bot.studio.core import words
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import (
    Arrow,
    Outcome,
    PressHandler,
    State,
    Step,
    Turn,
    again,
    go,
    say,
)
from bot.studio.core.events import Button, IncomingFile, Reply
from bot.studio.core.services import Services
from bot.studio.photos.photos import Photos


# --- consent ------------------------------------------------------------------------
def consent_step(s: Services) -> Step:
    """Consent first: nothing is looked at or kept before "I agree"."""

    async def show(turn: Turn) -> list[Reply]:
        agree = Button(w.AGREE, b.wizard(turn.rev, "agree"), "primary")
        return [
            say(
                words.welcome(s.settings),
                (agree, Button(w.DECLINE, b.wizard(turn.rev, "decline"))),
            )
        ]

    async def agree(turn: Turn, _arg: str) -> Outcome:
        await s.store.record_consent(turn.user["id"], words.CONSENT_VERSION, words.CONSENT_TEXT)
        return go(State.REFERENCES, {}, say(w.NOTED))

    async def decline(turn: Turn, _arg: str) -> Outcome:
        return Outcome([say(w.DECLINED)], to=State.CONSENT, data={}, show=False)

    async def text(turn: Turn, _text: str) -> Outcome:
        return again(say(w.PRESS_AGREE))

    async def files(turn: Turn, _files: tuple[IncomingFile, ...]) -> Outcome:
        return again(say(w.NO_PHOTO_BEFORE_CONSENT))

    return Step(
        State.CONSENT,
        show,
        {"agree": agree, "decline": decline},
        text,
        files,
        arrows=(
            Arrow(State.REFERENCES, "I agree (consent + version recorded)"),
            Arrow(State.CONSENT, "No thanks"),
        ),
    )


# --- references ----------------------------------------------------------------------
def references_step(photos: Photos, cancel: PressHandler) -> Step:
    """The reference photos (bot/studio/photos/photos.py does the work)."""
    return Step(
        State.REFERENCES,
        photos.show,
        {
            "done": photos.done,
            "cancel": cancel,  # /cancel's "Stop choosing"
            "remove": photos.remove,  # the /photos sheet's buttons
            "newset": photos.new_set,
        },
        photos.text,
        photos.files,
        arrows=(
            Arrow(State.REFERENCES, "photos (verdict per photo, running count)"),
            Arrow(State.REFERENCES, "Remove N / Start a new set (the /photos sheet)"),
            Arrow(State.STYLE, "Done (check_set; a different person is named and left out)"),
        ),
        wizard=True,
    )


# --- idle ------------------------------------------------------------------------------
def idle_step(s: Services, new: PressHandler, photos: Photos) -> Step:
    """Between orders: what's next, and New portrait (``Wizard.new``)."""

    async def show(turn: Turn) -> list[Reply]:
        order = await s.store.last_order(turn.user["id"])
        text = w.WHAT_NEXT
        if order is not None and order["status"] in IN_FLIGHT:
            text = w.order_waiting(order["id"], order["status"])
        return [say(text, (Button(w.NEW_PORTRAIT, b.wizard(turn.rev, "new"), "primary"),))]

    async def text(turn: Turn, _text: str) -> Outcome:
        return again(say(w.NOT_ASKING))

    return Step(
        State.IDLE,
        show,
        {"new": new},
        text,
        photos.between_orders,  # photos join the set, as /photos says
        arrows=(
            Arrow(State.STYLE, "/new or New portrait"),
            Arrow(State.REFERENCES, "/new or New portrait (photos not ready)"),
            Arrow(State.REFERENCES, "photos (added to the set)"),
        ),
    )
