"""/portraits: the orders still kept, page by page, and their results shown again
(portraits.py); its words (words_history.py) and buttons (buttons.py, registered
with the grammar here)."""

from bot.studio.core.buttons import GRAMMAR
from bot.studio.history.buttons import CODECS

GRAMMAR.register(*CODECS)
