"""GPT-2's byte-level BPE alphabet, shared by the tiny models' tokenizers (CLIP, Qwen)."""

from __future__ import annotations


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table, which CLIP's and Qwen's BPE use."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))
