"""The wizard's pack step (prompts/packs): several looks in one order, reached from the
style step; a chosen pack asks only the slots its looks leave open, and the summary
names the pack, its looks and the answers asked once. ``wz`` is the Wizard."""

from __future__ import annotations

from typing import Any

from bot.studio.core import buttons as b
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import Arrow, Outcome, State, Step, Turn, again, go, say
from bot.studio.core.events import Button, Reply
from bot.studio.orders import words_packs as wp
from sitter.packs import Pack, find_pack

PACK = "pack"  # the pack step (a reserved slot name): reached from the style step


def _rows(items: list[Button], per_row: int) -> list[tuple[Button, ...]]:
    return [tuple(items[i : i + per_row]) for i in range(0, len(items), per_row)]


def pack_step(wz: Any) -> Step:
    """The pack step: the packs as buttons (or typed, like a style); a pack then asks
    only its open slots (``Wizard._questions``)."""
    s = wz.s

    async def show(turn: Turn) -> list[Reply]:
        rev, packs = turn.rev, [s.packs[k] for k in wz.pack_keys]
        items = [Button(p.name, b.wizard(rev, "pick", str(i))) for i, p in enumerate(packs)]
        text = wp.choose_pack("Choose a pack: several looks in one order.", packs)
        nav = (Button(wp.BACK_TO_STYLES, b.wizard(rev, "back")),)
        return [say(text, *_rows(items, 2), (*nav, Button(w.CANCEL, b.wizard(rev, "cancel"))))]

    def chose(turn: Turn, key: str) -> Outcome:
        data = {k: v for k, v in turn.data.items() if k != State.STYLE}
        data[PACK] = key
        return go(wz._next(PACK, data), data)

    async def pick(turn: Turn, arg: str) -> Outcome:
        i = b.read_id(arg, 0)  # ASCII digits only: "-1" is not a choice
        if i is None or i >= len(wz.pack_keys):
            return again(say(wp.UNKNOWN_PACK))
        return chose(turn, wz.pack_keys[i])

    async def text(turn: Turn, text: str) -> Outcome:
        if (bad := wz._checked_text(text)) is not None:
            return again(bad)
        pack = find_pack(s.packs, text)
        if pack is None:
            names = ", ".join(s.packs[k].name for k in wz.pack_keys)
            return again(say(wp.unknown_pack(text, names)))
        return chose(turn, pack.key)

    return Step(
        PACK,
        show,
        {"pick": pick, "back": wz.back, "cancel": wz.cancel},
        text,
        wz._no_files,
        arrows=(
            Arrow(wz.questions[1] if len(wz.questions) > 1 else State.CONFIRM, "a pack"),
            Arrow(State.CONFIRM, "a pack that asks nothing more"),
            Arrow(State.STYLE, "◀ Styles"),
        ),
        wizard=True,
    )


def pack_summary(wz: Any, pack: Pack, data: dict[str, Any]) -> str:
    """The pack, its looks and the answers asked once, in the person's own terms."""
    lines = []
    for step in wz.slots:
        if step.slot in pack.asked:
            value = str(data.get(step.slot, ""))
            label = next((p.label for p in step.presets if p.value == value), value)
            lines.append(f"{step.slot.replace('_', ' ').capitalize()}: {label}")
    styles = {k: st.name for k, st in wz.s.prompts.styles.items()}
    return wp.pack_summary(pack, styles, lines)
