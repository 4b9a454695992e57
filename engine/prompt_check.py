"""Does an order's prompt fit this worker's text encoder? (the ``check_prompt`` job)

The bot asks before it queues an order, so an order FLUX.2 [klein] would cut is
refused with a plain message instead of rendering something else. Only the
tokenizer is loaded (a few MB, cached per model), so the fast queue answers
without the pipeline. SDXL and SD 1.5 take any length (engine.pipeline.long_prompt).
A worker without the model files (a CPU box for photo checks) says it cannot
tell; the GPU worker checks again before it renders.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from sitter import contract as c
from sitter.config import Settings

_LOCK = threading.Lock()
_TOKENIZERS: dict[tuple[str, str], Any] = {}


def _klein_text(settings: Settings) -> tuple[Any, int] | None:
    """(tokenizer, max_sequence_length) of the configured FLUX.2 [klein], or None."""
    from transformers import AutoTokenizer

    from engine.pipeline.klein import DEFAULT_MAX_SEQUENCE_LENGTH
    from engine.pipeline.loader import model_folder

    key = (settings.model, str(settings.models_dir))
    with _LOCK:
        if key in _TOKENIZERS:
            return _TOKENIZERS[key]
        folder, ref = model_folder(settings)
        try:
            if folder is not None:
                tok = AutoTokenizer.from_pretrained(folder / "tokenizer")
                config = folder / "text_encoder" / "config.json"
            else:
                cache = settings.models_dir
                tok = AutoTokenizer.from_pretrained(
                    ref, subfolder="tokenizer", cache_dir=cache, local_files_only=True
                )
                from huggingface_hub import hf_hub_download

                config = Path(
                    hf_hub_download(
                        ref, "text_encoder/config.json", cache_dir=cache, local_files_only=True
                    )
                )
            positions = json.loads(config.read_text(encoding="utf-8")).get(
                "max_position_embeddings", DEFAULT_MAX_SEQUENCE_LENGTH
            )
        except Exception:
            return None  # not on this machine
        _TOKENIZERS[key] = (tok, min(DEFAULT_MAX_SEQUENCE_LENGTH, int(positions)))
        return _TOKENIZERS[key]


def check_prompt(settings: Settings, req: c.CheckPromptRequest) -> c.CheckPromptResult:
    from engine.licences import base_family
    from engine.pipeline.klein import prompt_tokens, too_long_message

    family = base_family(settings) or ""
    if family != "klein":
        return c.CheckPromptResult(fits=True, family=family)
    text = _klein_text(settings)
    if text is None:
        return c.CheckPromptResult(fits=True, family=family, message="not checked here")
    tok, limit = text
    n = prompt_tokens(tok, req.reference_prompt or req.prompt)
    fits = n <= limit
    return c.CheckPromptResult(
        fits=fits,
        family=family,
        tokens=n,
        limit=limit,
        message="" if fits else too_long_message(n, limit),
    )


def preload(settings: Settings) -> None:
    """Load the tokenizer at worker start, so the first check answers at once."""
    from engine.licences import base_family

    if base_family(settings) == "klein":
        _klein_text(settings)
