"""The wizard's kit: what the steps built outside wizard.py (looks.py, wizard_packs.py)
use of the wizard, as one typed value instead of the Wizard object itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.studio.core.conversation import Arrow, FilesHandler, Outcome, PressHandler, Turn
from bot.studio.core.events import Button, Reply
from bot.studio.core.services import Services


@dataclass(frozen=True)
class Kit:
    """What a question of the wizard needs from it (``Wizard.kit()`` builds this): typed,
    public, and without an import of wizard.py (which imports the steps' modules)."""

    s: Services
    total: int
    questions: tuple[str, ...]  # the style, then one per slot
    pack_keys: list[str]
    nav_row: Callable[[int], tuple[Button, ...]]  # Back and Cancel for this revision
    answered: Callable[[Turn, str], Outcome]  # the answer kept, on to the next question
    checked_text: Callable[[str], Reply | None]  # a typed answer's refusal, or None
    next_state: Callable[[str, dict[str, Any] | None], str]  # data: a pack's questions
    back_arrows: Callable[[str], tuple[Arrow, ...]]
    back: PressHandler
    cancel: PressHandler
    no_files: FilesHandler
    shift: Callable[[dict[str, Any] | None], int]  # features' questions asked before this one
    # "Step N of M" for a state with these answers (a pet's portrait asks one question less)
    numbering: Callable[[str, dict[str, Any] | None], tuple[int, int]] | None = None

    def heading(self, state: str, number: int, data: dict[str, Any] | None) -> tuple[int, int]:
        """(N, M) for the step's heading: by the answers, else the table's own number
        moved by the features' questions asked before it."""
        if self.numbering is not None:
            try:
                return self.numbering(state, data)
            except ValueError:  # a step these answers do not ask (a pack's)
                pass
        shift = self.shift(data)
        return number + shift, self.total + shift
