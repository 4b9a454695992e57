"""A delivered portrait's follow-ups: the table of follow-up jobs (upscale, label,
avatar: followups.py), the More menu with vary and relight (portrait_menu.py), their
words (words_portrait.py) and buttons (buttons.py, registered with the grammar here)."""

from bot.studio.core.buttons import GRAMMAR
from bot.studio.portrait.buttons import CODECS

GRAMMAR.register(*CODECS)
