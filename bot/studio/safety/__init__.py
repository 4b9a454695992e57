"""The content screen for what people type (attire, setting, describe me, a
relight's own words): ``screen.py`` matches the word lists in
``prompts/safety/*.toml`` against the normalised ``views.py`` of the text.
"""

from __future__ import annotations

from bot.studio.safety.screen import (
    SAFETY_DIR,
    Screen,
    Verdict,
    default_screen,
    screen_order,
    screen_text,
)

__all__ = ["SAFETY_DIR", "Screen", "Verdict", "default_screen", "screen_order", "screen_text"]
