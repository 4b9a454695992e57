"""The wizard's pack step (prompts/packs): several looks in one order, reached from the
style step; a chosen pack asks only the slots its looks leave open, and the summary
names the pack, its looks and the answers asked once."""

from __future__ import annotations

from typing import Any

from bot.studio.core import buttons as b
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import Arrow, Outcome, State, Step, Turn, again, go, say
from bot.studio.core.events import Button, Reply
from bot.studio.orders import words_packs as wp
from bot.studio.pets import pets
from bot.studio.pets import sets as pet_sets
from bot.studio.pets import words_pets as wpt
from bot.studio.wizard.kit import Kit
from bot.studio.wizard.preview import PREVIEW_STEP, start_preview
from sitter.packs import Pack, find_pack
from sitter.prompts import PromptLibrary, WizardStep

PACK = "pack"  # the pack step (a reserved slot name): reached from the style step


def _rows(items: list[Button], per_row: int) -> list[tuple[Button, ...]]:
    return [tuple(items[i : i + per_row]) for i in range(0, len(items), per_row)]


def pack_step(kit: Kit) -> Step:
    """The pack step: the packs as buttons (or typed, like a style); a pack then asks
    only its open slots (``Wizard._questions``)."""
    s = kit.s

    async def show(turn: Turn) -> list[Reply]:
        rev, packs = turn.rev, [s.packs[k] for k in kit.pack_keys]
        items = [Button(p.name, b.wizard(rev, "pick", str(i))) for i, p in enumerate(packs)]
        text = wp.choose_pack("Choose a pack: several looks in one order.", packs)
        text += "\n" + wp.preview_line()
        preview = (Button(wp.PREVIEW_BUTTON, b.wizard(rev, "preview"), "primary"),)
        nav = (Button(wp.BACK_TO_STYLES, b.wizard(rev, "back")),)
        cancel = Button(w.CANCEL, b.wizard(rev, "cancel"))
        return [say(text, *_rows(items, 2), preview, (*nav, cancel))]

    async def preview(turn: Turn, _arg: str) -> Outcome:
        return start_preview(turn)  # (a pet's: the styles that take pets are checked at order)

    def chose(turn: Turn, key: str) -> Outcome:
        looks = [look.style for look in s.packs[key].looks]
        if pet_sets.chosen_pet(turn.data) and not pets.pack_takes_pets(s, looks):
            return again(say(wpt.PACK_PEOPLE_ONLY))
        data = {k: v for k, v in turn.data.items() if k != State.STYLE}
        data[PACK] = key
        return go(kit.next_state(PACK, data), data)

    async def pick(turn: Turn, arg: str) -> Outcome:
        i = b.read_id(arg, 0)  # ASCII digits only: "-1" is not a choice
        if i is None or i >= len(kit.pack_keys):
            return again(say(wp.UNKNOWN_PACK))
        return chose(turn, kit.pack_keys[i])

    async def text(turn: Turn, text: str) -> Outcome:
        if (bad := kit.checked_text(text)) is not None:
            return again(bad)
        pack = find_pack(s.packs, text)
        if pack is None:
            names = ", ".join(s.packs[k].name for k in kit.pack_keys)
            return again(say(wp.unknown_pack(text, names)))
        return chose(turn, pack.key)

    return Step(
        PACK,
        show,
        {"pick": pick, "preview": preview, "back": kit.back, "cancel": kit.cancel},
        text,
        kit.no_files,
        arrows=(
            Arrow(kit.questions[1] if len(kit.questions) > 1 else State.CONFIRM, "a pack"),
            Arrow(State.CONFIRM, "a pack that asks nothing more"),
            Arrow(State.STYLE, "◀ Styles"),
            Arrow(PREVIEW_STEP, "Preview in three styles"),
        ),
        wizard=True,
    )


def pack_summary(
    prompts: PromptLibrary, slots: tuple[WizardStep, ...], pack: Pack, data: dict[str, Any]
) -> str:
    """The pack, its looks and the answers asked once, in the person's own terms."""
    lines = []
    for step in slots:
        if step.slot in pack.asked:
            value = str(data.get(step.slot, ""))
            label = next((p.label for p in step.presets if p.value == value), value)
            lines.append(f"{step.slot.replace('_', ' ').capitalize()}: {label}")
    styles = {k: st.name for k, st in prompts.styles.items()}
    return wp.pack_summary(pack, styles, lines)
