"""/language: buttons listing the offered languages, each in its own name; a press
keeps the choice (users.locale) and shows the current step again in that language, so
a wizard in progress keeps every answer (the session is not touched)."""

from __future__ import annotations

from bot.studio.core.conversation import Outcome, Turn, again, say
from bot.studio.core.events import Button, Reply
from bot.studio.core.routes import Routes
from bot.studio.core.services import Services
from bot.studio.language import words as wl
from bot.studio.language.buttons import LanguagePress
from bot.studio.language.buttons import language as language_button
from sitter import i18n


class Language:
    def __init__(self, services: Services):
        self.s = services

    def register(self, routes: Routes) -> None:
        routes.on_command("language", self.ask, always=True)
        routes.on_press(LanguagePress, self.press)

    def _buttons(self) -> tuple[Button, ...]:
        here = i18n.current()
        return tuple(
            Button(
                i18n.language_name(code),
                language_button(n),
                "primary" if code == here else "choice",
            )
            for n, code in enumerate(i18n.offered())
        )

    async def ask(self, turn: Turn) -> list[Reply]:
        return [say(wl.choose(), self._buttons())]

    async def press(self, turn: Turn, p: LanguagePress) -> list[Reply] | Outcome:
        codes = i18n.offered()
        if p.id >= len(codes):
            return [say(wl.gone(), self._buttons())]
        code = codes[p.id]
        await self.s.store.set_locale(turn.user["id"], code)
        i18n.switch(code)  # the rest of this event speaks it (the step shown again too)
        return again(say(wl.changed(i18n.language_name(code, capital=False))))
