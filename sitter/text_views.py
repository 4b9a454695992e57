"""The normalised views of typed text that the prompt screen matches against.

Each view undoes one usual disguise: spacing (``n u d e``, ``n ude``, ``nud e``),
punctuation, emoji or a braille blank inside a word (``nu.de``, ``nu🍑de``), leetspeak
(``nud3``, ``$exy``), look-alike letters from other scripts (Cyrillic ``о``, Armenian
``ոս``, Cherokee ``ᏁᏌᎠᎬ``, small capitals ``ɴᴜᴅᴇ``, regional-indicator letters: the
generated table in :mod:`sitter.confusables`, from Unicode's
confusables.txt), a word spelt in Greek or Cyrillic letters (``νυde`` read as Greek:
nu, upsilon), invisible characters, width (NFKC), accents and stretched letters
(``nuuude``). Every view only adds chances to match; none removes one.
Pure functions, on the ground floor so that both read the same fold: the bot's word lists
(bot/studio/safety/screen.py) match the views, and the engine's semantic screen
(engine/text_screen.py) reads the :func:`skeleton`, in the typed answers the bot sends
and in the whole prompt the GPU worker re-checks before painting.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import pairwise

from sitter.confusables import FOLD

# --- normalisation tables ------------------------------------------------------------
# Letters from other scripts that look like Latin ones (a small, practical subset of
# Unicode's confusables.txt: the ones a keyboard user can reach).
_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
    "ј": "j", "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ӏ": "l", "ь": "b",
    "п": "n", "г": "r", "д": "d", "и": "u", "л": "n", "ш": "w", "з": "3", "ч": "4",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "μ": "u", "ς": "s",
    "σ": "o", "δ": "d", "λ": "l", "π": "n",
    # Latin look-alikes NFKC leaves alone
    "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŧ": "t", "ƅ": "b", "ɑ": "a",
    "ɩ": "i", "ʋ": "u", "ß": "ss", "æ": "ae", "œ": "oe", "þ": "p",
}  # fmt: skip
# Capitals whose lower case looks different (Greek Ν is an N, its ν is not a v).
_CONFUSABLE_CAPITALS = {
    "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m", "Ν": "n",
    "Ο": "o", "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x", "Ϲ": "c",
    "А": "a", "В": "b", "Е": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p", "С": "c",
    "Т": "t", "У": "y", "Х": "x", "Ѕ": "s", "І": "i", "Ј": "j", "Ԁ": "d",
}  # fmt: skip
# Greek and Cyrillic letters read as the letter they are (a word spelt in them), where
# the look-alike table reads them by shape (Greek nu looks like v, is an n).
_GREEK_NAMES = {
    "ALPHA": "a", "BETA": "b", "GAMMA": "g", "DELTA": "d", "EPSILON": "e", "ZETA": "z",
    "ETA": "i", "THETA": "th", "IOTA": "i", "KAPPA": "k", "LAMDA": "l", "MU": "m", "NU": "n",
    "XI": "x", "OMICRON": "o", "PI": "p", "RHO": "r", "SIGMA": "s", "FINAL SIGMA": "s",
    "TAU": "t", "UPSILON": "u", "PHI": "f", "CHI": "ch", "PSI": "ps", "OMEGA": "o",
}  # fmt: skip
_CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїє", [
    "a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r",
    "s", "t", "u", "f", "h", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya", "i", "i", "e",
], strict=True))  # fmt: skip


_ACCENTED = re.compile(r"\sWITH\s")


def _greek() -> dict[str, str]:
    out = {}
    for code in (*range(0x0370, 0x0400), *range(0x1F00, 0x2000)):
        name = unicodedata.name(chr(code), "")
        for kind in ("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER "):
            if name.startswith(kind):
                letter = _ACCENTED.split(name[len(kind) :])[0]  # "ALPHA WITH TONOS" -> ALPHA
                if letter in _GREEK_NAMES:
                    out[chr(code)] = _GREEK_NAMES[letter]
    return out


_SPELT = {**_greek(), **_CYRILLIC, **{k.upper(): v for k, v in _CYRILLIC.items()}}
# The reverse, for a Russian word typed with a few Latin letters in it.
_TO_CYRILLIC = {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "k": "к"}

# Leetspeak: symbols and digits standing for letters (inside words that have a letter).
_LEET = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "6": "g", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "l", "+": "t", "€": "e", "£": "l", "¡": "i",
}  # fmt: skip
_LEET_SYMBOLS = "".join(k for k in _LEET if not k.isalnum())
# Characters that join the pieces of one disguised word: n.u.d.e, n-u-d-e, n_u_d_e.
_INNER_PUNCT = ".-_*'’·•~^:,/\\="
_INVISIBLE_EXTRA = {"\u034f", "\u115f", "\u1160", "\u3164", "\uffa0", "\u180e"}

_TOKEN = re.compile(rf"(?:[^\W_]|[{re.escape(_LEET_SYMBOLS)}])+")
WORD = re.compile(r"[^\W_]+")
# A word with a pictograph inside it ("n🍑de" -> "n·de"): the pictograph may stand for
# a letter rather than sit between two, so such words are also read with it as a letter.
_WILD = re.compile(r"[a-z]+(?:·+[a-z]+)+")
_GLUE = re.compile(rf"(?<=[^\W_])[{re.escape(_INNER_PUNCT)}]+(?=[^\W_])")
_STRETCH = re.compile(r"([^\W\d_])\1{2,}")


def _is_invisible(ch: str) -> bool:
    if ch in _INVISIBLE_EXTRA:
        return True
    cat = unicodedata.category(ch)
    if cat == "Cf":  # zero-width space/joiner, soft hyphen, bidi marks, BOM
        return True
    return "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef"  # variation sel.


def is_cjk(text: str) -> bool:
    return any(
        "\u3040" <= ch <= "\u30ff"  # kana
        or "\u3400" <= ch <= "\u9fff"  # CJK ideographs
        or "\uac00" <= ch <= "\ud7af"  # Hangul
        for ch in text
    )


def _visible(text: str) -> str:
    """NFKC, invisible characters removed, and a pictograph or braille blank (category
    So/Sk) made a joiner: inside a word it is glued away (``nu🍑de``), elsewhere it
    separates words as a space would."""
    text = unicodedata.normalize("NFKC", text)
    out = []
    for ch in text:
        if _is_invisible(ch):
            continue
        if ord(ch) not in FOLD and unicodedata.category(ch) in ("So", "Sk") and ch not in _LEET:
            out.append("·")
        else:
            out.append(ch)
    return "".join(out)


# Arabic (and Persian) written several ways for one word: short vowels and other marks,
# the tatweel that stretches a word (``عـــاري``), and the forms of alef, ya and ta marbuta.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي",
    "ی": "ي", "ک": "ك", "ۀ": "ه", "ە": "ه", "ڪ": "ك",
})  # fmt: skip
# Clitics written joined to the next word: and/so, then with/in, for/to, as, the.
_ARABIC_CONJUNCTIONS = ("و", "ف")
_ARABIC_PREFIXES = ("بال", "كال", "لل", "ال", "ب", "ل", "ك")


def _is_arabic(word: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in word)


def normalize(text: str) -> str:
    """NFKC, invisible characters removed, case folded, whitespace collapsed, Arabic
    marks, tatweel and letter forms folded.

    Accents and scripts are kept: this is the form other-language terms match.
    """
    folded = _visible(text).casefold()
    if _is_arabic(folded):
        folded = _ARABIC_MARKS.sub("", folded).translate(_ARABIC_FOLD)
    return " ".join(folded.split())


def arabic_stem(word: str) -> str:
    """An Arabic word without the clitics joined in front (``والطفل`` -> ``طفل``)."""
    for prefixes in (_ARABIC_CONJUNCTIONS, _ARABIC_PREFIXES):
        for prefix in prefixes:
            if word.startswith(prefix) and len(word) - len(prefix) >= 3:
                word = word[len(prefix) :]
                break
    return word


def to_latin(text: str, *, spelt: bool = False) -> str:
    """Case folded, accents stripped and look-alike letters mapped to Latin: by shape
    (:data:`FOLD`, from Unicode's confusables), or with ``spelt`` Greek and Cyrillic
    letters by what they are (``ν`` -> ``n``)."""
    decomposed = unicodedata.normalize("NFKD", _visible(text))
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Me"))
    if spelt:
        bare = "".join(_SPELT.get(ch, ch) for ch in bare)
    bare = "".join(_CONFUSABLE_CAPITALS.get(ch) or FOLD.get(ord(ch), ch) for ch in bare)
    return " ".join("".join(_CONFUSABLES.get(ch, ch) for ch in bare.casefold()).split())


def _join_spaced(tokens: list[str]) -> tuple[list[str], list[str]]:
    """Join runs of three or more one-character tokens (``n u d e`` -> ``nude``).

    Returns the new token list and the joined runs (checked for terms inside
    them too, since ``a n u d e`` joins to ``anude``).
    """
    out: list[str] = []
    runs: list[str] = []
    run: list[str] = []
    for tok in [*tokens, ""]:
        if len(tok) == 1:
            run.append(tok)
            continue
        if len(run) >= 3:
            joined = "".join(run)
            out.append(joined)
            runs.append(joined)
        else:
            out.extend(run)
        run = []
        if tok:
            out.append(tok)
    return out, runs


def _unleet(token: str, one: str) -> str:
    if not any(ch.isalpha() for ch in token):
        return token  # "18", "1990": numbers stay numbers
    table = dict(_LEET, **{"1": one})
    return "".join(table.get(ch, ch) for ch in token)


def _squeeze(text: str, keep: int) -> str:
    return _STRETCH.sub(lambda m: m.group(1) * keep, text)


@dataclass(frozen=True)
class Views:
    """The normalised forms of one text that terms are matched against."""

    native: str  # NFKC + casefold: for terms in other scripts / with accents
    latin: frozenset[str]  # space-joined token strings: for ASCII terms
    runs: frozenset[str]  # joined spaced-out letter runs, searched inside
    pairs: frozenset[str]  # two short neighbours glued ("nu de" -> "nude"), exact only
    compact: str  # native without spaces: for CJK terms
    plain: str  # latin form of the whole text, punctuation kept: for ages
    raw: str  # normalised text, punctuation kept: for ages in other scripts
    wild: frozenset[str] = frozenset()  # words with an emoji standing for letters ("n·de")
    stems: str = ""  # native with Arabic clitics taken off ("والطفل" -> "طفل"), if any


def _split_pairs(source: str) -> set[str]:
    """One letter split off a word by a space (``n ude``, ``nud e``): the two glued.

    Only words standing apart by whitespace, so ``it's ex-boyfriend`` makes no ``sex``."""
    words = source.split()
    return {
        a + b
        for a, b in pairwise(words)
        if a.isalpha()
        and b.isalpha()
        and sorted((len(a), len(b)))[0] == 1
        and 2 <= max(len(a), len(b)) <= 8
    }


def views(text: str) -> Views:
    native = normalize(text)
    latin = to_latin(text)
    spelt = to_latin(text, spelt=True)
    out: set[str] = set()
    runs: set[str] = set()
    pairs: set[str] = set()
    sources = {latin, _GLUE.sub("", latin), spelt, _GLUE.sub("", spelt)}
    for source in sources:
        raw, joined = _join_spaced(_TOKEN.findall(source))
        pairs.update(_split_pairs(source))
        for one in ("i", "l"):
            runs.update(_unleet(r, one) for r in joined)
            pairs.update(
                _unleet(a + b, one)
                for a, b in pairwise(raw)
                if 2 <= len(a) <= 3 and 2 <= len(b) <= 3
            )
            s = " ".join(_unleet(t, one) for t in raw)
            out.update((s, _squeeze(s, 1), _squeeze(s, 2)))
    native_tokens, native_runs = _join_spaced(WORD.findall(native))
    native_tokens = [_cyrillic_fix(t) for t in native_tokens]
    wild = {w for w in _WILD.findall(latin) if sum(ch.isalpha() for ch in w) >= 2}
    stems = [arabic_stem(t) if _is_arabic(t) else t for t in native_tokens]
    return Views(
        stems=" ".join(stems) if stems != native_tokens else "",
        wild=frozenset(w for w in wild if w.count("·") <= 2),
        native=" ".join(native_tokens),
        latin=frozenset(out),
        runs=frozenset(runs | set(native_runs)),
        pairs=frozenset(pairs),
        compact="".join(native.split()),
        plain=latin,
        raw=native,
    )


def _cyrillic_fix(token: str) -> str:
    """A mostly Cyrillic word with Latin look-alikes in it, written all in Cyrillic."""
    if any("\u0400" <= ch <= "\u04ff" for ch in token):
        return "".join(_TO_CYRILLIC.get(ch, ch) for ch in token)
    return token


_JOINER = re.compile(r"(?<=\w)·+(?=\w)")


def skeleton(text: str) -> str:
    """What the semantic screen reads: look-alike letters, width, case and accents
    folded, an emoji or braille blank inside a word glued away (``ԝearing`` ->
    ``wearing``, ``nu🍑de`` -> ``nude``). Idempotent."""
    return " ".join(_JOINER.sub("", to_latin(text)).replace("·", " ").split())
