"""SDXL and SD 1.5 prompts of any length: no silent truncation at CLIP's 77 tokens.

CLIP reads 77 tokens (75 words' worth plus start and end), and the stock
pipelines cut everything after: the lighting and framing of a long order were
lost while the order summary still showed them. Here the prompt is split into
75-token chunks, each wrapped in start/end tokens and encoded on its own
exactly as the pipeline encodes one prompt (SDXL: both encoders' penultimate
hidden states side by side, the pooled embedding from the first chunk; SD 1.5:
the last hidden state), and the chunks are concatenated along the sequence.
The UNet's cross-attention takes any length, so the result goes in as
``prompt_embeds``. A prompt of up to 75 tokens gives the pipeline's own
embeddings, bit for bit.

This is the chunking of diffusers' long-prompt community pipelines, not
compel: compel parses a weighting syntax (``(word)1.3``, ``word++``, ``word-``)
that would reinterpret what people type into the wizard.
"""

from __future__ import annotations

from typing import Any

CHUNK = 75  # CLIP's 77 minus the start and end tokens


def _ids(tokenizer: Any, text: str) -> list[int]:
    return list(
        tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    )


def _chunks(ids: list[int], n: int) -> list[list[int]]:
    out = [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)] or [[]]
    return out + [[] for _ in range(n - len(out))]


def _encode(tokenizer: Any, encoder: Any, chunks: list[list[int]], sdxl: bool) -> tuple[Any, Any]:
    """(hidden states of all chunks concatenated, pooled embedding of the first or None)."""
    import torch

    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    width = CHUNK + 2
    rows = []
    for chunk in chunks:
        row = [bos, *chunk, eos]
        rows.append(row + [pad] * (width - len(row)))
    device = next(encoder.parameters()).device
    out = encoder(torch.tensor(rows, device=device), output_hidden_states=True)
    if sdxl:
        hidden = out.hidden_states[-2]
        pooled = out[0][:1] if out[0].ndim == 2 else None
    else:
        hidden, pooled = out[0], None
    return hidden.reshape(1, -1, hidden.shape[-1]), pooled


def encode(pipe: Any, prompt: str, negative: str | None, *, cfg: bool) -> dict[str, Any]:
    """``prompt_embeds`` (and negatives, pooled for SDXL) for one prompt, whole."""
    import torch

    sdxl = getattr(pipe, "text_encoder_2", None) is not None
    pairs = [(pipe.tokenizer, pipe.text_encoder)]
    if sdxl:
        pairs.append((pipe.tokenizer_2, pipe.text_encoder_2))
    ids = [_ids(tok, prompt) for tok, _ in pairs]
    neg_ids = [_ids(tok, negative or "") for tok, _ in pairs]
    n = max(len(_chunks(i, 0)) for i in ids + neg_ids)

    def embed(all_ids: list[list[int]]) -> tuple[Any, Any]:
        hidden, pooled = [], None
        for (tok, enc), token_ids in zip(pairs, all_ids, strict=True):
            h, p = _encode(tok, enc, _chunks(token_ids, n), sdxl)
            hidden.append(h)
            pooled = p if p is not None else pooled
        return torch.cat(hidden, dim=-1), pooled

    with torch.inference_mode():
        embeds, pooled = embed(ids)
        out: dict[str, Any] = {"prompt_embeds": embeds}
        if sdxl:
            out["pooled_prompt_embeds"] = pooled
        if not cfg:
            return out
        zeros = negative is None and bool(
            getattr(pipe.config, "force_zeros_for_empty_prompt", False)
        )
        if zeros and sdxl:
            out["negative_prompt_embeds"] = torch.zeros_like(embeds)
            out["negative_pooled_prompt_embeds"] = torch.zeros_like(pooled)
        else:
            neg, neg_pooled = embed(neg_ids)
            out["negative_prompt_embeds"] = neg
            if sdxl:
                out["negative_pooled_prompt_embeds"] = neg_pooled
    return out


def token_count(pipe: Any, prompt: str) -> int:
    """CLIP tokens of ``prompt`` (without start/end): over 75 means more than one chunk."""
    return len(_ids(pipe.tokenizer, prompt))
