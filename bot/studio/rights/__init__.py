"""Data rights: /forget, retention sweeps, what is deleted where (rights.py); the
/forget confirmation's button (buttons.py, registered with the grammar here)."""

from bot.studio.core.buttons import GRAMMAR
from bot.studio.rights.buttons import CODECS

GRAMMAR.register(*CODECS)
