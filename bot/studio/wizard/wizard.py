"""The conversation's table: consent, photos, the style, one step per slot of
prompts/wizard.toml, the confirmation, and idle. A new question is a ``[[steps]]`` entry
in prompts/wizard.toml: its step, "Step N of M" and summary line come from there.
``python -m bot.studio.wizard`` prints the diagram (bot/studio/wizard/flow.mmd).
"""

from __future__ import annotations

from typing import Any

from bot.studio.core import buttons as b
from bot.studio.core import words
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import (
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
from bot.studio.core.events import Button, IncomingFile, Reply
from bot.studio.core.routes import Routes
from bot.studio.core.services import Services
from bot.studio.orders import words_orders as wo
from bot.studio.orders import words_packs as wp
from bot.studio.orders.orders import VARIATIONS, Orders
from bot.studio.personal import words_personal as wpm
from bot.studio.personal.use import in_use as personal_in_use
from bot.studio.pets import pets as pet_steps
from bot.studio.pets import sets as pet_sets
from bot.studio.pets.pets import WHOSE_STEP, Pets
from bot.studio.photos.photos import Photos
from bot.studio.safety.semantic import typed_refusal
from bot.studio.wizard import looks
from bot.studio.wizard.extras import Extras
from bot.studio.wizard.kit import Kit
from bot.studio.wizard.preview import PREVIEW_STEP, preview_step
from bot.studio.wizard.wizard_packs import PACK, pack_step, pack_summary
from bot.studio.wizard.wizard_start import consent_step, idle_step, references_step
from sitter.packs import PREVIEW, Pack, chosen_pack
from sitter.prompts import WizardStep
from sitter.wizard_steps import FORMAT_STEP, SLOT, SUBJECT_STEP


def _rows(items: list[Button], per_row: int) -> list[tuple[Button, ...]]:
    return [tuple(items[i : i + per_row]) for i in range(0, len(items), per_row)]


class Wizard:
    """Builds the table's steps and holds their handlers."""

    def __init__(self, services: Services, photos: Photos, orders: Orders, pets: Pets):
        self.s = services
        self.photos = photos
        self.orders = orders
        self.pets = pets
        prompts = services.prompts
        self.style_keys = sorted(prompts.styles)
        self.slots: tuple[WizardStep, ...] = prompts.wizard_steps  # any kind, in order
        # the questions in order: the style, then one per slot; then the confirmation
        self.questions = (State.STYLE.value, *(s.slot for s in self.slots))
        self.total = len(self.questions)
        self.pack_keys = sorted(services.packs)

    def conversation(self, routes: Routes) -> Conversation:
        """The whole table, with what the features registered (core/routes.py)."""
        self.extras = Extras(tuple(routes.wizard_steps), tuple(routes.buttons))
        steps = [self._consent(), self._references(), self._style(), self._pack()]
        steps += [preview_step(self.kit())]
        steps += [self._question(i, step) for i, step in enumerate(self.slots)]
        steps += [*self.extras.built(self.kit()), self._confirm(), self._idle()]
        steps += [*self.pets.steps(self.cancel, self._no_files), *routes.steps]
        return Conversation(
            self.s,
            steps,
            fallback_presses={"keep": self.keep, "pet": self.pets.start},
            fallback_arrows=[
                ("*wizard", Arrow(State.IDLE, "Cancel or /cancel")),
                (State.IDLE, Arrow(State.REFERENCES, "/photos")),
                *pet_steps.table_arrows(routes.steps),  # /pet, 🐾, whose portrait
                *routes.arrows,
                *self.extras.arrows(),
            ],
        )

    # --- shared -------------------------------------------------------------------------
    def kit(self) -> Kit:
        """What the subject and format questions (looks.py) use of the wizard."""
        return Kit(
            self.s,
            self.total,
            self.questions,
            self.pack_keys,
            self._nav_row,
            self._answered,
            self._checked_text,
            self._next,
            self._back_arrows,
            self.back,
            self.cancel,
            self._no_files,
            self.extras.shift,
            numbering=self.numbering,
        )

    def _nav_row(self, rev: int) -> tuple[Button, ...]:
        return (Button(w.BACK, b.wizard(rev, "back")), Button(w.CANCEL, b.wizard(rev, "cancel")))

    async def keep(self, turn: Turn, _arg: str) -> Outcome:
        """'Keep my data' under /forget's question: valid in every state."""
        return again(say(w.KEPT_DATA))

    async def _no_files(self, turn: Turn, files: tuple[IncomingFile, ...]) -> Outcome:
        where = "now" if turn.state == State.IDLE else f"at the {turn.state} step now"
        return again(say(w.not_collecting(where)))

    def chosen_pack(self, data: dict[str, Any] | None) -> Pack | None:
        return chosen_pack(self.s.packs, self.s.prompts, data)

    def _questions(self, data: dict[str, Any] | None) -> tuple[str, ...]:
        """The questions in order: a pack asks only its open slots (after choosing it)."""
        pack = self.chosen_pack(data)
        if pack is not None and pack.key == PREVIEW:  # the three styles, then every slot
            return (PACK, PREVIEW_STEP, *pack.asked)
        asked = self.questions if pack is None else (PACK, *pack.asked)
        questions = self.extras.insert(asked, data)
        if pet_sets.chosen_pet(data) is not None:  # a pet is not described like a person
            return tuple(q for q in questions if q != SUBJECT_STEP)
        return questions

    def numbering(self, state: str, data: dict[str, Any] | None) -> tuple[int, int]:
        """(N, M) of "Step N of M" for this question with these answers."""
        questions = self._questions(data)
        return questions.index(state) + 1, len(questions)

    def _next(self, state: str, data: dict[str, Any] | None = None) -> str:
        questions = self._questions(data)
        if state not in questions:  # (the table's static arrows)
            questions = self.questions
        i = questions.index(state)
        return questions[i + 1] if i + 1 < len(questions) else State.CONFIRM

    def _previous(self, state: str, data: dict[str, Any] | None = None) -> str:
        questions = self._questions(data)
        if state == PACK:
            return State.STYLE
        if state == PREVIEW_STEP:
            return PACK
        if state == State.CONFIRM:
            return questions[-1]
        if state not in questions:
            questions = self.questions
        i = questions.index(state)
        return questions[i - 1] if i else State.REFERENCES

    async def back(self, turn: Turn, _arg: str) -> Outcome:
        to = self._previous(turn.state, turn.data)
        if to == State.REFERENCES:
            await self.photos.collect_again(turn.user)
        return go(to)  # the answers so far are kept

    async def cancel(self, turn: Turn, _arg: str) -> Outcome:
        active = await self.s.store.active_order(turn.user["id"])
        if active is not None:  # the order is not what this button cancels: say so
            return go(State.IDLE, {}, say(w.CANCELLED_WIZARD_ORDER_GOES_ON.format(id=active["id"])))
        return go(State.IDLE, {}, say(w.CANCELLED_WIZARD))

    def _answered(self, turn: Turn, value: str) -> Outcome:
        return go(self._next(turn.state, turn.data), {**turn.data, turn.state: value})

    def _checked_text(self, text: str) -> Reply | None:
        if not text:
            return say(w.EMPTY_ANSWER)
        if len(text) > words.FREE_TEXT_MAX:
            return say(w.too_long(len(text)))
        return None

    def _back_arrows(self, state: str) -> tuple[Arrow, ...]:
        return (Arrow(self._previous(state), "Back"),)

    # --- consent and photos (bot/studio/wizard/wizard_start.py) --------------------------------
    def _consent(self) -> Step:
        return consent_step(self.s)

    def _references(self) -> Step:
        return references_step(self.photos, self.cancel)

    # --- the style ------------------------------------------------------------------------
    def _ask_style(self, rev: int, data: dict[str, Any] | None = None) -> Reply:
        styles, offered = self.s.prompts.styles, pet_steps.style_keys(self.s, self.style_keys, data)
        items = [
            Button(styles[k].name, b.wizard(rev, "style", str(i)))
            for i, k in enumerate(self.style_keys)
            if k in offered  # (the index is the full list's: a button means one style)
        ]
        lines = pet_steps.styles_heading(data, bool(offered))  # a pet's: for pets only
        lines += [f"• {styles[k].name}: {styles[k].description}" for k in offered]
        total = self.total + self.extras.shift(data)  # a feature's questions (placement)
        text = w.step_heading(1, total, "choose a style:") + "\n" + "\n".join(lines)
        packs = (Button(wp.PACKS_BUTTON, b.wizard(rev, "packs")),) if self.pack_keys else ()
        extra = () if pet_sets.chosen_pet(data) else self.extras.buttons(data)  # (no partner)
        return say(text, *_rows(items, 2), packs, extra, self._nav_row(rev))

    def _style(self) -> Step:
        async def show(turn: Turn) -> list[Reply]:
            return [self._ask_style(turn.rev, turn.data)]

        async def pick(turn: Turn, arg: str) -> Outcome:
            i = b.read_id(arg, 0)  # ASCII digits only: "-1" or "٣" is not a choice
            if i is None or i >= len(self.style_keys):
                return again(say(w.UNKNOWN_STYLE_BUTTON))
            return self._one_style(turn, self.style_keys[i])

        async def packs(turn: Turn, _arg: str) -> Outcome:
            if not self.pack_keys:
                return again(say(wp.NO_PACKS))
            return go(PACK, {k: v for k, v in turn.data.items() if k != PACK})

        async def text(turn: Turn, text: str) -> Outcome:
            if (bad := self._checked_text(text)) is not None:
                return again(bad)
            style = self.s.prompts.find_style(text)
            if style is None:
                names = ", ".join(self.s.prompts.styles[k].name for k in self.style_keys)
                return again(say(w.unknown_style(text, names)))
            return self._one_style(turn, style.key)

        return Step(
            State.STYLE,
            show,
            {"style": pick, "packs": packs, "back": self.back, "cancel": self.cancel},
            text,
            self._no_files,
            arrows=(
                Arrow(self._next(State.STYLE), "a style"),
                Arrow(PACK, "Packs"),
                *self._back_arrows(State.STYLE),
            ),
            number=1,
            wizard=True,
        )

    def _one_style(self, turn: Turn, key: str) -> Outcome:
        if (refusal := pet_steps.style_refusal(self.s, key, turn.data)) is not None:
            return again(say(refusal))
        data = {k: v for k, v in turn.data.items() if k != PACK}  # a style, not a pack
        return go(self._next(State.STYLE, data), {**data, State.STYLE.value: key})

    # --- a pack instead of a style (prompts/packs; bot/studio/wizard/wizard_packs.py) -------------
    def _pack(self) -> Step:
        return pack_step(self.kit())

    # --- one step per entry of wizard.toml -------------------------------------------------
    def _question(self, i: int, step: WizardStep) -> Step:
        """A slot step here; the subject and format steps from bot/studio/wizard/looks.py."""
        if step.kind == SUBJECT_STEP:
            return looks.subject_step(self.kit(), step, i + 2)
        if step.kind == FORMAT_STEP:
            return looks.format_step(self.kit(), step, i + 2)
        return self._slot(i, step)

    def _slot(self, i: int, step: WizardStep) -> Step:
        number = i + 2  # the style is step 1

        async def show(turn: Turn) -> list[Reply]:
            rev = turn.rev
            n, total = self.numbering(step.slot, turn.data)
            items = [
                Button(p.label, b.wizard(rev, "preset", str(k))) for k, p in enumerate(step.presets)
            ]
            own = (Button(w.TYPE_OWN, b.wizard(rev, "own"), "free_text"),)
            text = w.step_heading(n, total, step.question) + "\n" + w.CHOOSE_OR_TYPE
            return [say(text, *_rows(items, 2), own, self._nav_row(rev))]

        async def preset(turn: Turn, arg: str) -> Outcome:
            i = b.read_id(arg, 0)
            if i is None or i >= len(step.presets):
                return again(say(w.NOT_ON_LIST))
            return self._answered(turn, step.presets[i].value)

        async def own(turn: Turn, _arg: str) -> Outcome:
            return answer(say(w.TYPE_ANSWER.format(max=words.FREE_TEXT_MAX)))

        async def text(turn: Turn, text: str) -> Outcome:
            if (bad := self._checked_text(text)) is not None:
                return again(bad)
            if refusal := await typed_refusal(self.s, turn.user, text):
                return again(say(refusal))
            return self._answered(turn, text)

        nxt = self._next(step.slot)
        arrows = (Arrow(nxt, "preset or typed"), *self._back_arrows(step.slot))
        if i == 0:
            arrows += (Arrow(PACK, "Back (a pack's first question)"),)
        return Step(
            step.slot,
            show,
            {"preset": preset, "own": own, "back": self.back, "cancel": self.cancel},
            text,
            self._no_files,
            arrows=arrows,
            number=number,
            wizard=True,
        )

    # --- confirm ----------------------------------------------------------------------------
    def summary(self, data: dict[str, Any]) -> str:
        """The order in the person's own terms: the preset's label, or what they typed."""
        style = self.s.prompts.styles.get(data.get("style", ""))
        lines = [*pet_steps.whose_lines(data), f"Style: {style.name if style else '?'}"]
        for step in self.slots:
            if step.kind == SUBJECT_STEP and pet_sets.chosen_pet(data):  # not described
                continue
            if step.kind != SLOT:
                lines.append(looks.summary_line(self.s.prompts, step, data))
                continue
            value = str(data.get(step.slot, ""))
            label = next((p.label for p in step.presets if p.value == value), value)
            lines.append(f"{step.slot.replace('_', ' ').capitalize()}: {label}")
        lines += self.extras.summary(data)
        return "\n".join(lines)

    async def _confirm_text(self, turn: Turn) -> str:
        pack = self.chosen_pack(turn.data)
        summary = self.summary(turn.data) if pack is None else ""
        ref = await pet_sets.sitting_set(self.s.store, turn.user, turn.data)  # whose portrait
        if await personal_in_use(self.s.store, turn.user["id"], ref["id"]):
            summary = "\n".join(x for x in (summary, wpm.SUMMARY_LINE) if x)
        if pack is None:
            return w.confirm_text(summary, VARIATIONS)
        used = await self.orders.images_today(turn.user)
        quota = self.s.settings.daily_quota
        whole = pack_summary(self.s.prompts, self.slots, pack, turn.data)
        whole = "\n".join(x for x in (*pet_steps.whose_lines(turn.data), whole, summary) if x)
        return wp.confirm_pack(whole, pack.images, used, quota)

    def _confirm(self) -> Step:
        async def show(turn: Turn) -> list[Reply]:
            queue = (Button(w.QUEUE_IT, b.wizard(turn.rev, "go"), "primary"),)
            text = await self._confirm_text(turn)
            pack = self.chosen_pack(turn.data)
            cost = pack.images if pack is not None else VARIATIONS
            quota = self.s.settings.daily_quota
            if quota and (used := await self.orders.images_today(turn.user)) + cost > quota:
                # Over today's limit: no "Queue it" that can only be refused (issue 22).
                limit = wo.over_today(wo.daily_limit(quota, used, cost))
                text = text.removesuffix(" Queue it?") + "\n\n" + limit
                return [say(text, self._nav_row(turn.rev))]
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
        if await self.pets.asks_whose(turn.user):  # with a pet's set: whose portrait?
            return go(WHOSE_STEP, {})
        ref = await self.s.store.current_set(turn.user["id"])
        return go(State.STYLE if ref["status"] == "ready" else State.REFERENCES, {})

    def _idle(self) -> Step:
        return idle_step(self.s, self.new, self.photos)
