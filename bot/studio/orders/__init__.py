"""Orders and packs: placing, limits, queueing, cancelling and retrying an order
(orders.py), a pack's looks as orders (pack_orders.py), their words (words_packs.py)
and buttons (buttons.py, its codec, loaded by the one grammar)."""
