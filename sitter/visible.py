"""Text for the screen with its control characters made visible.

A file name may hold terminal escapes (``\\x1b]52;c;…\\x07`` writes the clipboard,
``\\x1b[2J`` clears the screen), bidi overrides that reverse what follows, or bytes
that are not UTF-8 (which would make ``print`` raise). Everything the terminal studio
prints goes through :func:`visible`, so such a name shows as ``\\x1b]52;c;…`` instead of
acting on the terminal.
"""

from __future__ import annotations

import unicodedata

# Invisible characters that reorder or hide what follows (Trojan Source).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_HIDDEN = {"Cc", "Cs", "Zl", "Zp"}  # controls, lone surrogates, line/paragraph separators


def _escape(ch: str) -> str:
    o = ord(ch)
    if 0xDC80 <= o <= 0xDCFF:  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
        return f"\\x{o - 0xDC00:02x}"
    return f"\\x{o:02x}" if o <= 0xFF else f"\\u{o:04x}"


def visible(text: str, keep: str = "") -> str:
    """``text`` with every control character (C0, DEL, C1), bidi control, lone
    surrogate and line separator written as an escape (``\\x1b``, ``\\u202e``);
    characters in ``keep`` stay as they are."""
    if text.isprintable() and not _BIDI.intersection(text):
        return text  # the usual case, at C speed
    return "".join(
        _escape(ch)
        if ch not in keep and (ch in _BIDI or unicodedata.category(ch) in _HIDDEN)
        else ch
        for ch in text
    )
