"""The semantic screen of typed answers (the ``screen_text`` job, engine/text_screen.py).

Part of the job contract (:mod:`sitter.contract`, which re-exports every name). The bot
sends the person's answers, each already folded to its skeleton (look-alike letters,
width, emoji inside words: sitter/text_views.py); the engine answers whether a
model reads any of them, or all of them together, as refused content. The category is a
code (a prompts/safety category name); the bot words it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sitter.contract_base import Message

MAX_SCREEN_SLOTS = 16
MAX_SCREEN_CHARS = 4000

SlotName = Annotated[str, Field(min_length=1, max_length=64)]
SlotText = Annotated[str, Field(max_length=MAX_SCREEN_CHARS)]


class ScreenTextRequest(Message):
    texts: dict[SlotName, SlotText] = Field(
        max_length=MAX_SCREEN_SLOTS,
        description="Each typed answer by its slot (attire, setting, subject, lighting...).",
    )


class ScreenTextResult(Message):
    ok: bool
    checked: Annotated[bool, Field(description="False: no screen model here (off).")] = True
    category: Annotated[str, Field(max_length=64, description="sexual, minors...")] = ""
    slot: Annotated[str, Field(max_length=64, description="The answer; 'order': together.")] = ""
    phrase: Annotated[str, Field(max_length=MAX_SCREEN_CHARS, description="Words refused.")] = ""
    score: Annotated[float, Field(ge=-1.0, le=1.0, description="Similarity to a refusal.")] = 0.0
    threshold: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.0
    model: Annotated[str, Field(max_length=200, description="Which model judged.")] = ""
