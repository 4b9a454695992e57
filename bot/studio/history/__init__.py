"""/portraits: the orders still kept, page by page, and their results shown again
(portraits.py); its words (words_history.py) and buttons (buttons.py, its codec, loaded
by the grammar)."""
