"""The conversation's table: consent, photos, the style, one step per slot of
prompts/wizard.toml, the confirmation, and idle.

Adding a question to the wizard is a ``[[steps]]`` entry in prompts/wizard.toml: its
step, its "Step N of M" and its line in the order summary come from there.
``python -m bot.studio.wizard`` prints the diagram (bot/studio/flow.mmd).
"""

from __future__ import annotations

from typing import Any

from bot.studio import buttons as b
from bot.studio import safety, words
from bot.studio import words_chat as w
from bot.studio.conversation import (
    Arrow,
    Conversation,
    Outcome,
    State,
    Step,
    Turn,
    again,
    answer,
    go,
    say,
)
from bot.studio.events import Button, IncomingFile, Reply
from bot.studio.orders import VARIATIONS, Orders
from bot.studio.photos import Photos
from bot.studio.services import Services
from sitter.prompts import WizardStep


def _rows(items: list[Button], per_row: int) -> list[tuple[Button, ...]]:
    return [tuple(items[i : i + per_row]) for i in range(0, len(items), per_row)]


def screen_text(text: str) -> str | None:
    """The free-text screen (bot/studio/safety.py): a refusal sentence, or None."""
    verdict = safety.screen_text(text)
    return None if verdict.ok else verdict.message


class Wizard:
    """Builds the table's steps and holds their handlers."""

    def __init__(self, services: Services, photos: Photos, orders: Orders):
        self.s = services
        self.photos = photos
        self.orders = orders
        prompts = services.prompts
        self.style_keys = sorted(prompts.styles)
        self.slots: tuple[WizardStep, ...] = prompts.steps
        # the questions in order: the style, then one per slot; then the confirmation
        self.questions = (State.STYLE.value, *(s.slot for s in self.slots))
        self.total = len(self.questions)

    def conversation(self) -> Conversation:
        steps = [self._consent(), self._references(), self._style()]
        steps += [self._slot(i, step) for i, step in enumerate(self.slots)]
        steps += [self._confirm(), self._idle()]
        return Conversation(
            self.s,
            steps,
            fallback_presses={"keep": self.keep},
            fallback_arrows=[
                ("*wizard", Arrow(State.IDLE, "Cancel or /cancel")),
                (State.IDLE, Arrow(State.REFERENCES, "/photos")),
            ],
        )

    # --- shared -------------------------------------------------------------------------
    def _nav_row(self, rev: int) -> tuple[Button, ...]:
        return (Button(w.BACK, b.wizard(rev, "back")), Button(w.CANCEL, b.wizard(rev, "cancel")))

    async def keep(self, turn: Turn, _arg: str) -> Outcome:
        """'Keep my data' under /forget's question: valid in every state."""
        return again(say(w.KEPT_DATA))

    async def _no_files(self, turn: Turn, files: tuple[IncomingFile, ...]) -> Outcome:
        where = "now" if turn.state == State.IDLE else f"at the {turn.state} step now"
        return again(say(w.not_collecting(where)))

    def _next(self, state: str) -> str:
        i = self.questions.index(state)
        return self.questions[i + 1] if i + 1 < len(self.questions) else State.CONFIRM

    def _previous(self, state: str) -> str:
        if state == State.CONFIRM:
            return self.questions[-1]
        i = self.questions.index(state)
        return self.questions[i - 1] if i else State.REFERENCES

    async def back(self, turn: Turn, _arg: str) -> Outcome:
        to = self._previous(turn.state)
        if to == State.REFERENCES:
            await self.photos.collect_again(turn.user)
        return go(to)  # the answers so far are kept

    async def cancel(self, turn: Turn, _arg: str) -> Outcome:
        active = await self.s.store.active_order(turn.user["id"])
        if active is not None:  # the order is not what this button cancels: say so
            return go(State.IDLE, {}, say(w.CANCELLED_WIZARD_ORDER_GOES_ON.format(id=active["id"])))
        return go(State.IDLE, {}, say(w.CANCELLED_WIZARD))

    def _answered(self, turn: Turn, value: str) -> Outcome:
        return go(self._next(turn.state), {**turn.data, turn.state: value})

    def _checked_text(self, text: str) -> Reply | None:
        if not text:
            return say(w.EMPTY_ANSWER)
        if len(text) > words.FREE_TEXT_MAX:
            return say(w.too_long(len(text)))
        return None

    def _back_arrows(self, state: str) -> tuple[Arrow, ...]:
        return (Arrow(self._previous(state), "Back"),)

    # --- consent ------------------------------------------------------------------------
    def _consent(self) -> Step:
        async def show(turn: Turn) -> list[Reply]:
            agree = Button(w.AGREE, b.wizard(turn.rev, "agree"), "primary")
            return [
                say(
                    words.welcome(self.s.settings),
                    (agree, Button(w.DECLINE, b.wizard(turn.rev, "decline"))),
                )
            ]

        async def agree(turn: Turn, _arg: str) -> Outcome:
            await self.s.store.record_consent(
                turn.user["id"], words.CONSENT_VERSION, words.CONSENT_TEXT
            )
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
    def _references(self) -> Step:
        return Step(
            State.REFERENCES,
            self.photos.show,
            {
                "done": self.photos.done,
                "cancel": self.cancel,  # /cancel's "Stop choosing"
                "remove": self.photos.remove,  # the /photos sheet's buttons
                "newset": self.photos.new_set,
            },
            self.photos.text,
            self.photos.files,
            arrows=(
                Arrow(State.REFERENCES, "photos (verdict per photo, running count)"),
                Arrow(State.REFERENCES, "Remove N / Start a new set (the /photos sheet)"),
                Arrow(State.STYLE, "Done (check_set; a different person is named and left out)"),
            ),
            wizard=True,
        )

    # --- the style ------------------------------------------------------------------------
    def _ask_style(self, rev: int) -> Reply:
        styles = self.s.prompts.styles
        items = [
            Button(styles[k].name, b.wizard(rev, "style", str(i)))
            for i, k in enumerate(self.style_keys)
        ]
        lines = [f"• {s.name}: {s.description}" for s in styles.values()]
        text = w.step_heading(1, self.total, "choose a style:") + "\n" + "\n".join(lines)
        return say(text, *_rows(items, 2), self._nav_row(rev))

    def _style(self) -> Step:
        async def show(turn: Turn) -> list[Reply]:
            return [self._ask_style(turn.rev)]

        async def pick(turn: Turn, arg: str) -> Outcome:
            try:
                key = self.style_keys[int(arg)]
            except (ValueError, IndexError):
                return again(say(w.UNKNOWN_STYLE_BUTTON))
            return self._answered(turn, key)

        async def text(turn: Turn, text: str) -> Outcome:
            if (bad := self._checked_text(text)) is not None:
                return again(bad)
            style = self.s.prompts.find_style(text)
            if style is None:
                names = ", ".join(self.s.prompts.styles[k].name for k in self.style_keys)
                return again(say(w.unknown_style(text, names)))
            return self._answered(turn, style.key)

        return Step(
            State.STYLE,
            show,
            {"style": pick, "back": self.back, "cancel": self.cancel},
            text,
            self._no_files,
            arrows=(Arrow(self._next(State.STYLE), "a style"), *self._back_arrows(State.STYLE)),
            number=1,
            wizard=True,
        )

    # --- one step per slot of wizard.toml ---------------------------------------------------
    def _slot(self, i: int, step: WizardStep) -> Step:
        number = i + 2  # the style is step 1

        async def show(turn: Turn) -> list[Reply]:
            rev = turn.rev
            items = [
                Button(p.label, b.wizard(rev, "preset", str(k))) for k, p in enumerate(step.presets)
            ]
            own = (Button(w.TYPE_OWN, b.wizard(rev, "own"), "free_text"),)
            text = w.step_heading(number, self.total, step.question) + "\n" + w.CHOOSE_OR_TYPE
            return [say(text, *_rows(items, 2), own, self._nav_row(rev))]

        async def preset(turn: Turn, arg: str) -> Outcome:
            try:
                value = step.presets[int(arg)].value
            except (ValueError, IndexError):
                return again(say(w.NOT_ON_LIST))
            return self._answered(turn, value)

        async def own(turn: Turn, _arg: str) -> Outcome:
            return answer(say(w.TYPE_ANSWER.format(max=words.FREE_TEXT_MAX)))

        async def text(turn: Turn, text: str) -> Outcome:
            if (bad := self._checked_text(text)) is not None:
                return again(bad)
            if refusal := screen_text(text):
                return again(say(refusal))
            return self._answered(turn, text)

        nxt = self._next(step.slot)
        return Step(
            step.slot,
            show,
            {"preset": preset, "own": own, "back": self.back, "cancel": self.cancel},
            text,
            self._no_files,
            arrows=(Arrow(nxt, "preset or typed"), *self._back_arrows(step.slot)),
            number=number,
            wizard=True,
        )

    # --- confirm ----------------------------------------------------------------------------
    def summary(self, data: dict[str, Any]) -> str:
        """The order in the person's own terms: the preset's label, or what they typed."""
        style = self.s.prompts.styles.get(data.get("style", ""))
        lines = [f"Style: {style.name if style else '?'}"]
        for step in self.slots:
            value = str(data.get(step.slot, ""))
            label = next((p.label for p in step.presets if p.value == value), value)
            lines.append(f"{step.slot.replace('_', ' ').capitalize()}: {label}")
        return "\n".join(lines)

    def _confirm(self) -> Step:
        async def show(turn: Turn) -> list[Reply]:
            queue = (Button(w.QUEUE_IT, b.wizard(turn.rev, "go"), "primary"),)
            text = w.confirm_text(self.summary(turn.data), VARIATIONS)
            return [say(text, queue, self._nav_row(turn.rev))]

        async def place(turn: Turn, _arg: str) -> Outcome:
            placing = await self.orders.place(turn.user, turn.data)
            if placing.order_id is None:
                assert placing.refusal is not None
                if placing.redo == "style":
                    return go(State.STYLE, {}, placing.refusal)
                if placing.redo == "references":
                    return go(State.REFERENCES, {}, placing.refusal)
                return answer(placing.refusal)
            order_id = placing.order_id

            async def queued(_rev: int) -> list[Reply]:
                return [await self.orders.enqueue(order_id)]

            return Outcome(to=State.IDLE, show=False, then=queued)

        async def text(turn: Turn, _text: str) -> Outcome:
            return again(say(w.PRESS_QUEUE))

        return Step(
            State.CONFIRM,
            show,
            {"go": place, "back": self.back, "cancel": self.cancel},
            text,
            self._no_files,
            arrows=(
                Arrow(State.IDLE, "Queue it (one active order, daily quota)"),
                *self._back_arrows(State.CONFIRM),
            ),
            wizard=True,
        )

    # --- idle -------------------------------------------------------------------------------
    async def new(self, turn: Turn, _arg: str = "") -> Outcome:
        """Another portrait: with the same photos when they are ready, else photos first."""
        ref = await self.s.store.current_set(turn.user["id"])
        return go(State.STYLE if ref["status"] == "ready" else State.REFERENCES, {})

    def _idle(self) -> Step:
        async def show(turn: Turn) -> list[Reply]:
            order = await self.s.store.last_order(turn.user["id"])
            text = w.WHAT_NEXT
            if order is not None and order["status"] in ("queued", "running"):
                text = w.order_waiting(order["id"], order["status"])
            return [say(text, (Button(w.NEW_PORTRAIT, b.wizard(turn.rev, "new"), "primary"),))]

        async def text(turn: Turn, _text: str) -> Outcome:
            return again(say(w.NOT_ASKING))

        return Step(
            State.IDLE,
            show,
            {"new": self.new},
            text,
            self._no_files,
            arrows=(
                Arrow(State.STYLE, "/new or New portrait"),
                Arrow(State.REFERENCES, "/new or New portrait (photos not ready)"),
            ),
        )


def main() -> None:
    """Print the diagram of the shipped table (python -m bot.studio.wizard)."""
    from pathlib import Path
    from typing import cast

    from sitter.config import load_settings
    from sitter.prompts import PromptLibrary

    services = Services(
        store=cast(Any, None),
        engine=cast(Any, None),
        prompts=PromptLibrary.load(),
        settings=load_settings(data_dir=Path("/nonexistent")),
    )
    table = Wizard(services, Photos(services), Orders(services)).conversation()
    print(table.mermaid(), end="")


if __name__ == "__main__":
    main()
