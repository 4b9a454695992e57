"""An optional multilingual guard model after the semantic screen (off by default).

Qwen3Guard-Gen (0.6B / 4B / 8B; Apache-2.0 on its model card, read 2026-12-07) judges a
text in 119 languages and answers in words: ``Safety: Safe|Unsafe|Controversial`` and
``Categories: ...``. all-MiniLM-L6-v2 reads English only, so an operator who serves
other languages fetches a Qwen3Guard-Gen folder and sets
``SITTER_TEXT_SCREEN_GUARD=/models/Qwen3Guard-Gen-0.6B``; Sitter never downloads it.
Only its sexual-content verdicts refuse here (Unsafe or Controversial: portraits of real
people); its other categories are outside what the typed-answer screen is for.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

NAME = "Qwen3Guard-Gen"
_SAFETY = re.compile(r"Safety:\s*(Safe|Unsafe|Controversial)")
_SEXUAL = "Sexual Content or Sexual Acts"
MAX_NEW_TOKENS = 32


def read_verdict(reply: str) -> str:
    """The category code a guard's reply refuses ("sexual"), or "" (safe, or another
    category)."""
    m = _SAFETY.search(reply)
    if m is None or m.group(1) == "Safe":
        return ""
    return "sexual" if _SEXUAL in reply else ""


class Guard:
    def __init__(self, tokenizer: Any, model: Any, name: str = NAME):
        self.tokenizer = tokenizer
        self.model = model
        self.name = name
        self._lock = threading.Lock()

    def reply(self, text: str) -> str:
        """The guard's words about ``text`` as a user's prompt (its model card's recipe)."""
        import torch

        tok = self.tokenizer
        prompt = tok.apply_chat_template([{"role": "user", "content": text}], tokenize=False)
        inputs = tok([prompt], return_tensors="pt").to(self.model.device)
        with self._lock, torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
        new = out[0][inputs["input_ids"].shape[-1] :]
        return str(tok.decode(new, skip_special_tokens=True))

    def refuses(self, texts: list[str]) -> str:
        joined = "\n".join(t for t in texts if t.strip())
        return read_verdict(self.reply(joined)) if joined else ""


def load_guard(folder: Path) -> Guard:
    """A Qwen3Guard-Gen folder (config, tokenizer, weights) from disk; never downloads."""
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"SITTER_TEXT_SCREEN_GUARD: no model at {folder} (a local Qwen3Guard-Gen folder "
            "with config.json; Sitter does not download it)"
        )
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype="auto")
    model.eval()
    return Guard(tokenizer, model, f"{NAME} ({folder.name})")
