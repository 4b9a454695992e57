"""The wizard's two steps that are not prompt slots (sitter/wizard_steps.py): how to
describe the person (fills {subject}; optional; the last answer offered again) and the
picture's format (sets the request's aspect). Built into the table by wizard.py."""

from __future__ import annotations

from typing import Any

from bot.store.store import Row
from bot.studio.core import buttons as b
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import (
    Arrow,
    Outcome,
    Step,
    Turn,
    again,
    answer,
    say,
)
from bot.studio.core.events import Button, Reply
from bot.studio.core.services import Services
from bot.studio.safety.semantic import typed_refusal
from bot.studio.wizard import words_looks as wl
from bot.studio.wizard.kit import Kit
from sitter.prompts import PromptLibrary
from sitter.wizard_steps import FORMAT_STEP, SUBJECT_MAX_BYTES, SUBJECT_STEP, WizardStep


def _rows(items: list[Button], per_row: int) -> list[tuple[Button, ...]]:
    return [tuple(items[i : i + per_row]) for i in range(0, len(items), per_row)]


def format_label(prompts: PromptLibrary, aspect: str | None) -> str:
    """'Story 9:16' for "9:16" (the format step's button), else the ratio; '' for none."""
    if not aspect:
        return ""
    step = prompts.kind_step(FORMAT_STEP)
    presets = step.presets if step else ()
    return next((p.label for p in presets if p.value == aspect), aspect)


def summary_line(prompts: PromptLibrary, step: WizardStep, data: dict[str, Any]) -> str:
    """The order summary's line for a subject or format step."""
    value = str(data.get(step.slot, "") or "")
    if step.kind == FORMAT_STEP:
        return wl.summary_format(format_label(prompts, value) or "?")
    label = next((p.value for p in step.presets if p.value == value), value)
    return wl.summary_subject(label or wl.NOT_DESCRIBED)


async def subject_refusal(services: Services, user: Row, text: str) -> str | None:
    """Why a typed description is refused (too long, or the typed-answer screen), or None."""
    n = len(text.encode("utf-8"))
    if n > SUBJECT_MAX_BYTES:
        return wl.subject_too_long(n, SUBJECT_MAX_BYTES)
    return await typed_refusal(services, user, text)


def subject_step(kit: Kit, step: WizardStep, number: int) -> Step:
    """Presets, typed text (screened), Skip, and the last description as a default."""

    async def show(turn: Turn) -> list[Reply]:
        rev = turn.rev
        last = await kit.s.store.remembered_subject(turn.user["id"])
        items = [
            Button(p.label, b.wizard(rev, "preset", str(k))) for k, p in enumerate(step.presets)
        ]
        first: tuple[Button, ...] = ()
        shift = kit.shift(turn.data)
        text = w.step_heading(number + shift, kit.total + shift, step.question)
        if last:
            first = (Button(wl.SAME_AS_LAST, b.wizard(rev, "last"), "primary"),)
            text += "\n" + wl.last_time(last)
        own = (
            Button(w.TYPE_OWN, b.wizard(rev, "own"), "free_text"),
            Button(wl.SKIP, b.wizard(rev, "skip")),
        )
        text += "\n" + wl.DESCRIBE_HOW
        return [say(text, first, *_rows(items, 3), own, kit.nav_row(rev))]

    async def preset(turn: Turn, arg: str) -> Outcome:
        try:
            value = step.presets[int(arg)].value
        except (ValueError, IndexError):
            return again(say(w.NOT_ON_LIST))
        return kit.answered(turn, value)

    async def last(turn: Turn, _arg: str) -> Outcome:
        remembered = await kit.s.store.remembered_subject(turn.user["id"])
        if not remembered:  # forgotten since the button was shown
            return again(say(w.NOT_ON_LIST))
        return kit.answered(turn, remembered)

    async def skip(turn: Turn, _arg: str) -> Outcome:
        return kit.answered(turn, "")

    async def own(turn: Turn, _arg: str) -> Outcome:
        return answer(say(w.TYPE_ANSWER.format(max=SUBJECT_MAX_BYTES)))

    async def text(turn: Turn, text: str) -> Outcome:
        if (bad := kit.checked_text(text)) is not None:
            return again(bad)
        if refusal := await subject_refusal(kit.s, turn.user, text):
            return again(say(refusal))
        return kit.answered(turn, text)

    presses = {"preset": preset, "last": last, "skip": skip, "own": own}
    return Step(
        SUBJECT_STEP,
        show,
        {**presses, "back": kit.back, "cancel": kit.cancel},
        text,
        kit.no_files,
        arrows=(
            Arrow(kit.next_state(SUBJECT_STEP, None), "described or Skip"),
            *kit.back_arrows(SUBJECT_STEP),
        ),
        number=number,
        wizard=True,
    )


def format_step(kit: Kit, step: WizardStep, number: int) -> Step:
    """One button per format; a typed label or ratio ("story", "9:16") works too."""

    async def show(turn: Turn) -> list[Reply]:
        rev = turn.rev
        items = [
            Button(p.label, b.wizard(rev, "preset", str(k))) for k, p in enumerate(step.presets)
        ]
        n, total = kit.heading(FORMAT_STEP, number, turn.data)
        text = w.step_heading(n, total, step.question) + "\n" + wl.CHOOSE_FORMAT
        return [say(text, *_rows(items, 2), kit.nav_row(rev))]

    async def preset(turn: Turn, arg: str) -> Outcome:
        try:
            value = step.presets[int(arg)].value
        except (ValueError, IndexError):
            return again(say(wl.NOT_A_FORMAT))
        return kit.answered(turn, value)

    async def text(turn: Turn, text: str) -> Outcome:
        typed = text.strip().lower()
        for p in step.presets:
            words = p.label.lower().replace("(", " ").replace(")", " ").split()
            if typed in (p.value, p.label.lower()) or typed in words:
                return kit.answered(turn, p.value)
        return again(say(wl.NOT_A_FORMAT))

    return Step(
        FORMAT_STEP,
        show,
        {"preset": preset, "back": kit.back, "cancel": kit.cancel},
        text,
        kit.no_files,
        arrows=(
            Arrow(kit.next_state(FORMAT_STEP, None), "a format"),
            *kit.back_arrows(FORMAT_STEP),
        ),
        number=number,
        wizard=True,
    )
