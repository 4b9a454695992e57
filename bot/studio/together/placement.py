"""The wizard's placement step of a joint order (how the two people stand), asked right
after the style when the session holds an accepted invitation; a step of the table,
registered through the core's routes (``Routes.wizard_step``)."""

from __future__ import annotations

from typing import Any

from bot.studio.core import buttons as b
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import Arrow, Outcome, State, Step, Turn, again, go, say
from bot.studio.core.events import Button, Reply
from bot.studio.core.routes import WizardStep
from bot.studio.together import words_together as wt
from bot.studio.together.joint import PARTNER_NAME, PLACEMENT, TOGETHER

KEYS = tuple(wt.PLACEMENTS)


def summary(data: dict[str, Any]) -> str | None:
    """The order summary's line (None: not a joint order)."""
    if not data.get(TOGETHER):
        return None
    label = wt.placement_label(str(data.get(PLACEMENT)))
    return wt.summary_placement(label, str(data.get(PARTNER_NAME) or ""))


def build(kit: Any) -> Step:
    """The step, from the wizard's Kit (bot/studio/wizard/kit.py)."""

    async def show(turn: Turn) -> list[Reply]:
        rev = turn.rev
        items = [
            Button(wt.placement_label(key), b.wizard(rev, "preset", str(i)))
            for i, key in enumerate(KEYS)
        ]
        rows = [tuple(items[i : i + 2]) for i in range(0, len(items), 2)]
        text = w.step_heading(2, kit.total + 1, wt.PLACEMENT_QUESTION)  # right after the style
        return [say(text, *rows, kit.nav_row(rev))]

    async def preset(turn: Turn, arg: str) -> Outcome:
        i = b.read_id(arg, 0)
        if i is None or i >= len(KEYS):
            return again(say(wt.NOT_A_PLACEMENT))
        return answered(turn, KEYS[i])

    def answered(turn: Turn, key: str) -> Outcome:
        """On to the question after it (also for a session saved without the invitation)."""
        asked = {**turn.data, TOGETHER: turn.data.get(TOGETHER) or 1}
        return go(kit.next_state(PLACEMENT, asked), {**turn.data, PLACEMENT: key})

    async def back(turn: Turn, _arg: str) -> Outcome:
        return go(State.STYLE)

    async def text(turn: Turn, typed: str) -> Outcome:
        key = typed.strip().casefold()
        for k, label in wt.PLACEMENTS.items():
            said = (label.casefold(), wt.placement_label(k).casefold())  # English or shown
            if key in (k, *said, k.replace("_", " ")):
                return answered(turn, k)
        return again(say(wt.NOT_A_PLACEMENT))

    first_slot = kit.questions[1] if len(kit.questions) > 1 else State.CONFIRM
    return Step(
        PLACEMENT,
        show,
        {"preset": preset, "back": back, "cancel": kit.cancel},
        text,
        kit.no_files,
        arrows=(Arrow(first_slot, "a placement"), Arrow(State.STYLE, "Back")),
        wizard=True,
    )


STEP = WizardStep(PLACEMENT, build, after=State.STYLE, when=TOGETHER, summary=summary)
