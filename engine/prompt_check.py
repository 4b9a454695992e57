"""Does an order's prompt fit this worker's text encoder? (the ``check_prompt`` job)

The bot asks before it queues an order, so an order the model's text encoder would
cut (FLUX.2 [klein]) is refused with a plain message instead of rendering something
else. The family says whether it has a limit (``Family.prompt_limit``). Only the
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


def cached_tokenizer(settings: Settings) -> tuple[Any, int] | None:
    """(tokenizer, max_sequence_length) of the configured model's Qwen-style text
    encoder, cached per model; None when its files are not on this machine."""
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
    from engine.licences import model_family

    family = model_family(settings)
    name = "" if family is None else family.name
    limit = family.prompt_limit(settings) if family is not None and family.limits_prompt else None
    if family is None or not family.limits_prompt:
        return c.CheckPromptResult(fits=True, family=name, tokens=None, limit=None)
    if limit is None:
        message = "not checked here"
        return c.CheckPromptResult(fits=True, family=name, tokens=None, limit=None, message=message)
    count, most = limit
    n = count(family.order_prompt(req.prompt, req.reference_prompt))
    fits = n <= most
    return c.CheckPromptResult(
        fits=fits,
        family=name,
        tokens=n,
        limit=most,
        message="" if fits else too_long_message(n, most),
    )


def too_long_message(tokens: int, limit: int) -> str:
    from engine.pipeline.klein import too_long_message as words

    return words(tokens, limit)


def preload(settings: Settings) -> None:
    """Load the tokenizer at worker start, so the first check answers at once."""
    from engine.licences import model_family

    family = model_family(settings)
    if family is not None and family.limits_prompt:
        family.prompt_limit(settings)
