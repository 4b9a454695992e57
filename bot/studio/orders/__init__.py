"""Orders and packs: placing, limits, queueing, cancelling and retrying an order
(orders.py), a pack's looks as orders (pack_orders.py), their words (words_packs.py)
and buttons (buttons.py, registered with the one grammar here)."""

from bot.studio.core.buttons import GRAMMAR
from bot.studio.orders.buttons import CODECS

GRAMMAR.register(*CODECS)
