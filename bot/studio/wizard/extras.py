"""The features' own questions in the wizard (``Routes.wizard_step``: a joint order's
placement), asked right after a given question when the session's data holds a key:
where they sit in the order of questions, how far they move "Step N of M", their
arrows and summary lines. Kept apart from wizard.py, which calls these one-liners."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.studio.core.conversation import Arrow, Step
from bot.studio.core.events import Button
from bot.studio.core.routes import WizardStep


@dataclass(frozen=True)
class Extras:
    steps: tuple[WizardStep, ...] = ()
    style_buttons: tuple[Button, ...] = ()  # under the style question (Portrait together)

    def buttons(self, data: dict[str, Any] | None) -> tuple[Button, ...]:
        """The features' buttons under the style question, unless one of their questions
        is already on the way (a joint order's style: no Portrait together button)."""
        return () if self.asked(data) else self.style_buttons

    def asked(self, data: dict[str, Any] | None) -> list[WizardStep]:
        return [e for e in self.steps if data and data.get(e.when)]

    def insert(self, questions: tuple[str, ...], data: dict[str, Any] | None) -> tuple[str, ...]:
        """The questions with each feature's question these answers call for."""
        for e in self.asked(data):
            if e.after in questions:
                i = questions.index(e.after) + 1
                questions = (*questions[:i], e.state, *questions[i:])
        return questions

    def shift(self, data: dict[str, Any] | None) -> int:
        """How many questions these answers add."""
        return len(self.asked(data))

    def built(self, kit: Any) -> list[Step]:
        return [e.build(kit) for e in self.steps]

    def arrows(self) -> list[tuple[str, Arrow]]:
        return [(e.after, Arrow(e.state, f"({e.when})")) for e in self.steps]

    def summary(self, data: dict[str, Any]) -> list[str]:
        return [line for e in self.steps if (line := e.summary(data))]
