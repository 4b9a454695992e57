"""A delivered portrait's follow-ups: the table of follow-up jobs (upscale, label,
avatar: followups.py), the More menu with vary and relight (portrait_menu.py), their
words (words_portrait.py) and buttons (buttons.py, its codec, loaded by the grammar)."""
