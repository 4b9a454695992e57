"""The screen's word lists in each offered language (``prompts/safety/languages/*.toml``).

One file per language, one table per category (``[sexual]``, ``[minors]``,
``[impersonation]``, ``[hate]``) and per pair (``[youth_revealing]``): its ``terms``
(``first``/``second`` for a pair), ``allow`` and ``patterns`` are added to the category
of that name, so every language is screened by the same rules and says the same reason.
A term in Cyrillic is also matched as typed in Latin letters (``golaya`` for ``голая``):
its usual transliterations are added as Latin terms. Text in Cyrillic is read in Latin
letters by the views already (``порно`` -> ``porno``), so the two directions meet.
"""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path
from typing import Any

# Russian letters -> the ways people write them in Latin letters (first: the usual).
_TRANSLIT: dict[str, tuple[str, ...]] = {
    "а": ("a",), "б": ("b",), "в": ("v",), "г": ("g",), "д": ("d",), "е": ("e",),
    "ё": ("e", "yo"), "ж": ("zh", "j"), "з": ("z",), "и": ("i",), "й": ("y", "i", "j"),
    "к": ("k",), "л": ("l",), "м": ("m",), "н": ("n",), "о": ("o",), "п": ("p",),
    "р": ("r",), "с": ("s",), "т": ("t",), "у": ("u",), "ф": ("f",), "х": ("h", "kh"),
    "ц": ("ts", "c"), "ч": ("ch",), "ш": ("sh",), "щ": ("sch", "shch"), "ъ": ("",),
    "ы": ("y", "i"), "ь": ("", "'"), "э": ("e",), "ю": ("yu", "ju"), "я": ("ya", "ja", "ia"),
}  # fmt: skip
_MAX_VARIANTS = 12
# Shorter words are not transliterated: in Latin letters they are too often another
# word (``маск`` -> ``mask``, ``наг`` -> ``nag``, ``ню`` -> ``nyu``).
_MIN_LETTERS = 5
# Transliterations that are English words or begin them (``трамп`` -> ``tramp``,
# ``интим*`` -> ``intimate``): the Cyrillic term is still matched as written.
_ENGLISH = frozenset({"tramp", "trampa", "trampe", "intim*", "sisk*"})


def is_cyrillic(term: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in term)


def transliterations(term: str) -> list[str]:
    """A Cyrillic term's Latin spellings (``голая*`` -> ``golaya*``, ``golaja*``...)."""
    star = "*" if term.endswith("*") else ""
    options = [_TRANSLIT.get(ch, (ch,)) for ch in term.rstrip("*").casefold()]
    out: list[str] = []
    for combo in itertools.islice(itertools.product(*options), _MAX_VARIANTS):
        latin = "".join(combo).replace("'", "")
        if latin.isascii() and latin.strip() and latin + star not in (*out, *_ENGLISH):
            out.append(latin + star)
    return out


def with_transliterations(terms: list[str]) -> list[str]:
    out = list(terms)
    for term in terms:
        letters = sum(ch.isalpha() for ch in term)
        if is_cyrillic(term) and (letters >= _MIN_LETTERS or " " in term.strip()):
            out.extend(t for t in transliterations(term) if t not in out)
    return out


def load_languages(folder: Path) -> dict[str, dict[str, list[str]]]:
    """Every language file's lists, merged per category: ``{"sexual": {"terms": [...]}}``."""
    merged: dict[str, dict[str, list[str]]] = {}
    for path in sorted(folder.glob("*.toml")):
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        for name, table in data.items():
            if not isinstance(table, dict):
                raise ValueError(f"{path}: {name!r} should be a table ([{name}])")
            into = merged.setdefault(name, {})
            for key, values in table.items():
                if key not in ("terms", "allow", "patterns", "first", "second"):
                    raise ValueError(f"{path}: [{name}] has an unknown list {key!r}")
                into.setdefault(key, []).extend(str(v) for v in values)
    return merged


def extend(data: dict[str, Any], extra: dict[str, list[str]]) -> dict[str, Any]:
    """A category's (or pair's) file data with one language table's lists added."""
    out = dict(data)
    for key, values in extra.items():
        out[key] = [*map(str, data.get(key, [])), *values]
    for key in _WORD_LISTS:
        if key in out:
            out[key] = with_transliterations([str(v) for v in out[key]])
    return out


_WORD_LISTS = ("terms", "first", "second", "allow")
