"""The wizard's first two steps: consent and the reference photos. ``wz`` is the Wizard."""

from __future__ import annotations

from typing import Any

from bot.studio.core import buttons as b
from bot.studio.core import words
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import Arrow, Outcome, State, Step, Turn, again, go, say
from bot.studio.core.events import Button, IncomingFile, Reply


# --- consent ------------------------------------------------------------------------
def consent_step(wz: Any) -> Step:
    """Consent first: nothing is looked at or kept before "I agree"."""

    async def show(turn: Turn) -> list[Reply]:
        agree = Button(w.AGREE, b.wizard(turn.rev, "agree"), "primary")
        return [
            say(
                words.welcome(wz.s.settings),
                (agree, Button(w.DECLINE, b.wizard(turn.rev, "decline"))),
            )
        ]

    async def agree(turn: Turn, _arg: str) -> Outcome:
        await wz.s.store.record_consent(turn.user["id"], words.CONSENT_VERSION, words.CONSENT_TEXT)
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
def references_step(wz: Any) -> Step:
    """The reference photos (bot/studio/photos/photos.py does the work)."""
    return Step(
        State.REFERENCES,
        wz.photos.show,
        {
            "done": wz.photos.done,
            "cancel": wz.cancel,  # /cancel's "Stop choosing"
            "remove": wz.photos.remove,  # the /photos sheet's buttons
            "newset": wz.photos.new_set,
        },
        wz.photos.text,
        wz.photos.files,
        arrows=(
            Arrow(State.REFERENCES, "photos (verdict per photo, running count)"),
            Arrow(State.REFERENCES, "Remove N / Start a new set (the /photos sheet)"),
            Arrow(State.STYLE, "Done (check_set; a different person is named and left out)"),
        ),
        wizard=True,
    )
