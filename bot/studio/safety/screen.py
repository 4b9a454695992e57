"""Prompt safety: screen what people type before an order is queued.

The word lists are data (``prompts/safety/*.toml``, one file per category);
this module only normalises text and matches. Matching is by whole word so
that innocent words containing a refused one (``Sussex``, ``Scunthorpe``,
``classic``) pass, and the text is looked at in several normalised *views* so
that the usual disguises do not (see :mod:`sitter.text_views`).

Pure functions and a loaded, immutable :class:`Screen`; no I/O after loading.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.studio.safety.ages import ages
from bot.studio.safety.languages import extend, load_languages
from bot.studio.safety.words import refusal
from sitter.text_views import WORD, Views, is_cjk, normalize, to_latin, views

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
    patterns: re.Pattern[str] | None = None  # regular expressions over the latin views


def _load(path: Path, *keys: str) -> dict[str, Any]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    missing = [k for k in keys if k not in data]
    if missing:
        raise ValueError(f"{path}: missing {missing[0]!r}")
    return data


def load_category(path: Path, extra: dict[str, list[str]] | None = None) -> Category:
    data = extend(_load(path, "reason", "terms"), extra or {})
    return category(path.stem, data, [str(t) for t in data["terms"]])


def category(name: str, data: Mapping[str, Any], terms: list[str]) -> Category:
    """A category from its file's ``reason``, ``allow``, ``patterns``, ``adult_age``."""
    reason = str(data["reason"]).strip()
    allow = [str(a) for a in data.get("allow", [])]
    patterns = [f"(?:{p})" for p in data.get("patterns", [])]
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
        name=name,
        reason=reason,
        latin=_alternation(latin),
        native=_alternation(native),
        cjk=tuple(cjk),
        words=frozenset(words),
        prefixes=tuple(prefixes),
        allow_latin=_alternation(allow_latin),
        allow_native=_alternation(allow_native),
        adult_age=int(age) if age is not None else None,
        patterns=re.compile(r"(?<![a-z0-9])(" + "|".join(patterns) + r")(?![a-z0-9])")
        if patterns
        else None,
    )


@dataclass(frozen=True)
class Pair:
    """Two lists refused together anywhere in one order (``prompts/safety/pairs``): an
    age or a school year (``first``) with anything
    revealing (``second``). With ``under_age`` a stated age below it counts as ``first``
    too; an adult's age never does ("aged 40, in leggings")."""

    name: str
    reason: str
    first: Category
    second: Category
    under_age: int | None

    def match(self, v: Views) -> tuple[str, str] | None:
        a = _match(self.first, v)
        if not a and self.under_age is not None:
            young = [n for n in ages(v.plain, v.raw) if n < self.under_age]
            a = f"{young[0]} years old" if young else ""
        b = _match(self.second, v) if a else ""
        return (a, b) if a and b else None


def load_pair(path: Path, extra: dict[str, list[str]] | None = None) -> Pair:
    data = extend(_load(path, "reason", "first", "second"), extra or {})
    first = category(path.stem, data, [str(t) for t in data["first"]])
    second = category(path.stem, data, [str(t) for t in data["second"]])
    if "any_age" in data:
        raise ValueError(f"{path}: 'any_age' is gone; use under_age = 18 (adults' ages pass)")
    age = data.get("under_age")
    return Pair(path.stem, first.reason, first, second, int(age) if age is not None else None)


# --- the screen ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    ok: bool
    category: str = ""
    matched: str = ""  # the refused term as normalised ("nude" for "n u d 3")
    slot: str = ""  # which part of the order ("attire", "text"), when screening an order
    reason: str = ""  # for the person
    together: str = ""  # a pair's second term ("bikini" with "a high school senior")

    @property
    def message(self) -> str:
        """The sentence to show: what was refused, where, and why."""
        if self.ok:
            return ""
        return refusal(self.matched, self.slot, self.reason, self.together)


OK = Verdict(ok=True)


class Screen:
    """The loaded categories. Build once (see :func:`default_screen`), share freely."""

    def __init__(self, categories: Iterable[Category], pairs: Iterable[Pair] = ()):
        self.categories = tuple(categories)
        self.pairs = tuple(pairs)
        if not self.categories:
            raise ValueError("no prompt safety categories loaded")

    @classmethod
    def from_folder(cls, folder: Path = SAFETY_DIR) -> Screen:
        files = sorted(folder.glob("*.toml"))
        if not files:
            raise FileNotFoundError(f"no prompt safety lists (*.toml) in {folder}")
        pairs = sorted((folder / "pairs").glob("*.toml"))
        extra = load_languages(folder / "languages")
        unknown = set(extra) - {p.stem for p in (*files, *pairs)}
        if unknown:
            raise ValueError(f"language lists for unknown categories: {sorted(unknown)}")
        return cls(
            (load_category(p, extra.get(p.stem, {})) for p in files),
            (load_pair(p, extra.get(p.stem, {})) for p in pairs),
        )

    def check(self, text: str) -> Verdict:
        """Screen one piece of free text (its own pairs too: "a student in a bikini")."""
        if not text or not text.strip():
            return OK
        v = views(text)
        for cat in self.categories:
            hit = _match(cat, v)
            if hit:
                return Verdict(False, cat.name, hit, reason=cat.reason)
        for pair in self.pairs:
            if both := pair.match(v):
                return Verdict(False, pair.name, both[0], reason=pair.reason, together=both[1])
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
                    return replace(verdict, slot=slot)
        joined = " ".join(v for v in slots.values() if v)
        verdict = self.check(joined)
        return verdict if verdict.ok else replace(verdict, slot="order")


def _strip_allowed(rx: re.Pattern[str] | None, text: str) -> str:
    return rx.sub(" ", text) if rx else text


def _match(cat: Category, v: Views) -> str:
    for view in sorted(v.latin):
        view = _strip_allowed(cat.allow_latin, view)
        if cat.latin and (m := cat.latin.search(view)):
            return m.group(1)
        if cat.patterns and (m := cat.patterns.search(view)):
            return m.group(1)
    if cat.patterns and (m := cat.patterns.search(_strip_allowed(cat.allow_latin, v.plain))):
        return m.group(1)  # digits kept as digits ("a 10th-grader")
    native = _strip_allowed(cat.allow_native, v.native)
    if cat.native and (m := cat.native.search(native)):
        return m.group(1)
    stems = _strip_allowed(cat.allow_native, v.stems)
    if cat.native and stems and (m := cat.native.search(stems)):
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
    for token in v.wild:
        rx = re.compile("[a-z]?".join(re.escape(p) for p in token.split("·") if p))
        for word in (*cat.words, *cat.prefixes):
            if rx.fullmatch(word):
                return word
    if cat.adult_age is not None:
        for age in ages(v.plain, v.raw):
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
