"""Prompt safety: screen what people type before an order is queued.

The word lists are data (``prompts/safety/*.toml``, one file per category);
this module only normalises text and matches. Matching is by whole word so
that innocent words containing a refused one (``Sussex``, ``Scunthorpe``,
``classic``) pass, and the text is looked at in several normalised *views* so
that the usual disguises do not (see :mod:`bot.studio.safety.views`).

Pure functions and a loaded, immutable :class:`Screen`; no I/O after loading.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.studio.safety.views import WORD, Views, is_cjk, normalize, to_latin, views

SAFETY_DIR = Path(__file__).resolve().parents[3] / "prompts" / "safety"

__all__ = [
    "SAFETY_DIR",
    "Screen",
    "Verdict",
    "default_screen",
    "normalize",
    "screen_order",
    "screen_text",
    "to_latin",
    "views",
]


# --- terms --------------------------------------------------------------------------
def _term_pattern(term: str, *, ascii_term: bool) -> str:
    prefix = term.endswith("*")
    body = term.rstrip("*")
    words = WORD.findall(to_latin(normalize(body)) if ascii_term else normalize(body))
    if not words:
        raise ValueError(f"empty safety term {term!r}")
    tail = r"[^ ]*" if prefix else r"(?:s|es)?"
    return " ".join(re.escape(w) for w in words) + tail


def _alternation(patterns: Iterable[str]) -> re.Pattern[str] | None:
    pats = sorted(set(patterns), key=len, reverse=True)
    if not pats:
        return None
    return re.compile(r"(?:^| )(" + "|".join(pats) + r")(?= |$)")


@dataclass(frozen=True)
class Category:
    name: str
    reason: str
    latin: re.Pattern[str] | None  # ASCII terms, matched in the latin views
    native: re.Pattern[str] | None  # terms with other letters, in the native view
    cjk: tuple[str, ...]  # matched anywhere in the compact view
    words: frozenset[str]  # single ASCII words (plain and prefix), for spaced runs
    prefixes: tuple[str, ...]
    allow_latin: re.Pattern[str] | None
    allow_native: re.Pattern[str] | None
    adult_age: int | None = None


def load_category(path: Path) -> Category:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    try:
        reason = str(data["reason"]).strip()
        terms = [str(t) for t in data["terms"]]
    except KeyError as exc:
        raise ValueError(f"{path}: missing {exc.args[0]!r}") from None
    allow = [str(a) for a in data.get("allow", [])]
    latin, native, cjk, words, prefixes = [], [], [], set(), []
    for term in terms:
        if is_cjk(term):
            cjk.append(normalize(term).replace(" ", ""))
        elif term.isascii():
            latin.append(_term_pattern(term, ascii_term=True))
            bare = to_latin(normalize(term.rstrip("*")))
            if WORD.fullmatch(bare) and len(bare) >= 3:
                (prefixes.append(bare) if term.endswith("*") else words.add(bare))
        else:
            native.append(_term_pattern(term, ascii_term=False))
    allow_latin = [_term_pattern(a, ascii_term=True) for a in allow if a.isascii()]
    allow_native = [_term_pattern(a, ascii_term=False) for a in allow if not a.isascii()]
    age = data.get("adult_age")
    return Category(
        name=path.stem,
        reason=reason,
        latin=_alternation(latin),
        native=_alternation(native),
        cjk=tuple(cjk),
        words=frozenset(words),
        prefixes=tuple(prefixes),
        allow_latin=_alternation(allow_latin),
        allow_native=_alternation(allow_native),
        adult_age=int(age) if age is not None else None,
    )


# --- ages ------------------------------------------------------------------------------
_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
}  # fmt: skip
_NUM = r"(\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")"
_AGE_PATTERNS = [
    # English: 16 years old, 16-year-old, 16yo, 16 y/o, aged 16, age 16, under 18
    rf"\b{_NUM}[\s-]*(?:years?|yrs?|yr)[\s-]*old\b",
    rf"\b{_NUM}\s*(?:yo|y/o|y\.o\.?)(?![a-z])",
    rf"\bage(?:d|\s+of)?\s*:?\s*{_NUM}\b",
    r"\bunder\s*(?:the\s+age\s+of\s+)?(\d{1,2})\b(?!\s*(?:dollars|euros|pounds|minutes|seconds))",
    # German, French, Spanish, Italian, Portuguese (accents stripped)
    rf"\b{_NUM}[\s-]*(?:jahre\s+alt|jahrig\w*)",
    rf"\b(?:de|a|agee?s?\s+de|tiene|ha|com|di)\s+{_NUM}\s+(?:ans|anos|anni)\b",
    rf"\b{_NUM}\s+(?:anos|anni)\s+de\s+edad\b",
]  # fmt: skip
_AGE_NATIVE = [
    r"(\d{1,3})\s*(?:лет|года|год)(?!\s*назад)",  # Russian
    r"(\d{1,3})\s*(?:歳|岁|살|세)",  # Japanese, Chinese, Korean
]
_AGE_RE = [re.compile(p) for p in _AGE_PATTERNS]
_AGE_NATIVE_RE = [re.compile(p) for p in _AGE_NATIVE]


def _ages(latin_plain: str, native: str) -> list[int]:
    found = []
    for rx in _AGE_RE:
        for m in rx.finditer(latin_plain):
            word = m.group(1)
            found.append(int(word) if word.isdigit() else _NUMBER_WORDS[word])
    for rx in _AGE_NATIVE_RE:
        found.extend(int(m.group(1)) for m in rx.finditer(native))
    return found


# --- the screen ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    ok: bool
    category: str = ""
    matched: str = ""  # the refused term as normalised ("nude" for "n u d 3")
    slot: str = ""  # which part of the order ("attire", "text"), when screening an order
    reason: str = ""  # for the person

    @property
    def message(self) -> str:
        """The sentence to show: what was refused, where, and why."""
        if self.ok:
            return ""
        where = f" in your {self.slot.replace('_', ' ')}" if self.slot else ""
        return f"I can't use “{self.matched}”{where}. {self.reason}"


OK = Verdict(ok=True)


class Screen:
    """The loaded categories. Build once (see :func:`default_screen`), share freely."""

    def __init__(self, categories: Iterable[Category]):
        self.categories = tuple(categories)
        if not self.categories:
            raise ValueError("no prompt safety categories loaded")

    @classmethod
    def from_folder(cls, folder: Path = SAFETY_DIR) -> Screen:
        files = sorted(folder.glob("*.toml"))
        if not files:
            raise FileNotFoundError(f"no prompt safety lists (*.toml) in {folder}")
        return cls(load_category(p) for p in files)

    def check(self, text: str) -> Verdict:
        """Screen one piece of free text."""
        if not text or not text.strip():
            return OK
        v = views(text)
        for cat in self.categories:
            hit = _match(cat, v)
            if hit:
                return Verdict(False, cat.name, hit, reason=cat.reason)
        return OK

    def check_order(self, slots: Mapping[str, str | None]) -> Verdict:
        """Screen each typed slot of an order (style, attire, free text...).

        Slots are checked one by one and then joined, so a phrase split across
        two slots ("little" + "girl") is caught too.
        """
        for slot, value in slots.items():
            if value:
                verdict = self.check(value)
                if not verdict.ok:
                    return Verdict(False, verdict.category, verdict.matched, slot, verdict.reason)
        joined = " ".join(v for v in slots.values() if v)
        verdict = self.check(joined)
        if not verdict.ok:
            return Verdict(False, verdict.category, verdict.matched, "order", verdict.reason)
        return OK


def _strip_allowed(rx: re.Pattern[str] | None, text: str) -> str:
    return rx.sub(" ", text) if rx else text


def _match(cat: Category, v: Views) -> str:
    for view in sorted(v.latin):
        view = _strip_allowed(cat.allow_latin, view)
        if cat.latin and (m := cat.latin.search(view)):
            return m.group(1)
    native = _strip_allowed(cat.allow_native, v.native)
    if cat.native and (m := cat.native.search(native)):
        return m.group(1)
    for term in cat.cjk:
        if term in v.compact:
            return term
    for run in v.runs:
        for word in cat.words:
            if word in run:
                return word
        for prefix in cat.prefixes:
            if prefix in run:
                return prefix
    for pair in v.pairs:
        stem = pair[:-2] if pair.endswith("es") else pair[:-1] if pair.endswith("s") else pair
        if pair in cat.words or stem in cat.words:
            return pair
        for prefix in cat.prefixes:
            if pair.startswith(prefix):
                return prefix
    if cat.adult_age is not None:
        for age in _ages(v.plain, v.raw):
            if age < cat.adult_age:
                return f"{age} years old"
    return ""


@lru_cache(maxsize=1)
def default_screen() -> Screen:
    """The screen built from ``prompts/safety`` (loaded once per process)."""
    return Screen.from_folder()


def screen_text(text: str) -> Verdict:
    return default_screen().check(text)


def screen_order(slots: Mapping[str, str | None]) -> Verdict:
    return default_screen().check_order(slots)
