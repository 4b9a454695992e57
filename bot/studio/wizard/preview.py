"""The wizard's preview step: "Preview in three styles" (offered among the packs) asks
for three styles, toggled with their buttons or typed by name; once three are chosen the
preview goes on like a pack that asks every slot (sitter/packs.py ``preview_pack``): one
portrait in each style, and "More like this" under any of them orders four of that one
(bot/studio/portrait/portrait_menu.py)."""

from __future__ import annotations

from bot.studio.core import buttons as b
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import Arrow, Outcome, State, Step, Turn, again, go, say
from bot.studio.core.events import Button, Reply
from bot.studio.orders import words_packs as wp
from bot.studio.pets import pets
from bot.studio.wizard.kit import Kit
from sitter.packs import PREVIEW, PREVIEW_CHOSEN, PREVIEW_STYLES

PREVIEW_STEP = "preview"  # the state (a reserved slot name, like "pack")


def start_preview(turn: Turn) -> Outcome:
    """From the pack step: a new preview, no style chosen yet."""
    data = {k: v for k, v in turn.data.items() if k != State.STYLE}
    return go(PREVIEW_STEP, {**data, "pack": PREVIEW, PREVIEW_CHOSEN: []})


def preview_step(kit: Kit) -> Step:
    """The step (``Wizard._questions`` puts it after the pack step, before every slot)."""
    styles = kit.s.prompts.styles
    keys = sorted(styles)  # the style step's order
    slots = [s.slot for s in kit.s.prompts.steps]

    def chosen(turn: Turn) -> list[str]:
        return [str(k) for k in turn.data.get(PREVIEW_CHOSEN) or [] if k in styles]

    async def show(turn: Turn) -> list[Reply]:
        rev, picked = turn.rev, chosen(turn)
        n, total = 2, 2 + len(slots)  # after the pack step; then every slot
        offered = pets.style_keys(kit.s, keys, turn.data)  # a pet's: the styles for pets
        items = [
            Button(("✓ " if k in picked else "") + styles[k].name, b.wizard(rev, "toggle", str(i)))
            for i, k in enumerate(keys)
            if k in offered
        ]
        rows = [tuple(items[i : i + 2]) for i in range(0, len(items), 2)]
        text = w.step_heading(n, total, wp.PREVIEW_QUESTION.format(n=PREVIEW_STYLES))
        text += "\n" + wp.preview_chosen([styles[k].name for k in picked], PREVIEW_STYLES)
        return [say(text, *rows, kit.nav_row(rev))]

    def toggled(turn: Turn, key: str) -> Outcome:
        if (refusal := pets.style_refusal(kit.s, key, turn.data)) is not None:
            return again(say(refusal))
        picked = chosen(turn)
        picked = [k for k in picked if k != key] if key in picked else [*picked, key]
        data = {**turn.data, "pack": PREVIEW, PREVIEW_CHOSEN: picked}
        if len(picked) == PREVIEW_STYLES:  # three: on to the questions
            return go(kit.next_state(PREVIEW_STEP, data), data)
        return go(PREVIEW_STEP, data)

    async def toggle(turn: Turn, arg: str) -> Outcome:
        i = b.read_id(arg, 0)
        if i is None or i >= len(keys):
            return again(say(w.UNKNOWN_STYLE_BUTTON))
        return toggled(turn, keys[i])

    async def text(turn: Turn, text: str) -> Outcome:
        if (bad := kit.checked_text(text)) is not None:
            return again(bad)
        style = kit.s.prompts.find_style(text)
        if style is None:
            names = ", ".join(styles[k].name for k in keys)
            return again(say(w.unknown_style(text, names)))
        return toggled(turn, style.key)

    first = slots[0] if slots else State.CONFIRM
    return Step(
        PREVIEW_STEP,
        show,
        {"toggle": toggle, "back": kit.back, "cancel": kit.cancel},
        text,
        kit.no_files,
        arrows=(
            Arrow(first, "the third style chosen"),
            Arrow(PREVIEW_STEP, "a style chosen or unchosen"),
            Arrow("pack", "Back"),
        ),
        wizard=True,
    )
