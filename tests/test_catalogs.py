"""The catalogs (locales/*/LC_MESSAGES/sitter.po, issue 26), checked as CI checks them:
up to date with the code, every message translated in every catalog, the same
placeholders as the English, the plural forms CLDR gives the locale, and no text over
a platform's limit (Telegram 4,096 characters a message, Discord 2,000; a button label
80 on Discord, kept to 64 here for both)."""

from __future__ import annotations

import re
import string
import sys
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from bot.textsplit import chunk_lines
from sitter import i18n

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import catalogs  # noqa: E402

TELEGRAM_MAX = 4096
DISCORD_MAX = 2000
LABEL_MAX = 64
# Button labels (a "# LABEL" comment above the message in its words module, or any
# short message: one line, no sentence end) are held to the label limit.
CODES = [c for c in i18n.offered() if c != i18n.SOURCE]


def _catalog(code: str) -> Catalog:
    with i18n.po_path(code).open("rb") as fh:
        return read_po(fh, locale=code, domain=i18n.DOMAIN)


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def _ids(message: object) -> tuple[str, ...]:
    mid = message.id  # type: ignore[attr-defined]
    return (mid,) if isinstance(mid, str) else tuple(mid)


def _strings(message: object) -> tuple[str, ...]:
    s = message.string  # type: ignore[attr-defined]
    return (s,) if isinstance(s, str) else tuple(s)


@pytest.fixture(scope="module")
def template() -> Catalog:
    return catalogs.template()


def test_every_offered_locale_has_a_catalog() -> None:
    assert CODES and set(CODES) >= {"ru", "es", "pt_BR", "ar"}


@pytest.mark.parametrize("code", CODES)
def test_the_catalog_holds_every_message_of_the_code(code: str, template: Catalog) -> None:
    have = {m.id for m in _catalog(code) if m.id}
    want = {m.id for m in template if m.id}
    missing = sorted(str(m) for m in want - have)
    assert not missing, f"{code}: run scripts/catalogs.py; missing {missing[:5]}"
    stale = sorted(str(m) for m in have - want)
    assert not stale, f"{code}: run scripts/catalogs.py; no longer in the code {stale[:5]}"


@pytest.mark.parametrize("code", CODES)
def test_every_message_is_translated_with_its_placeholders(code: str) -> None:
    problems = []
    for m in _catalog(code):
        if not m.id:
            continue
        ids, strings = _ids(m), _strings(m)
        if m.fuzzy or not all(s.strip() for s in strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        want = _fields(ids[-1]) | _fields(ids[0])
        for s in strings:
            try:
                got = _fields(s)
            except ValueError as exc:
                problems.append(f"broken braces ({exc}): {s!r}")
                continue
            # A plural form may leave out its count ("одна фотография": {n}, or {left}),
            # one field at most; no form adds a field.
            extra, lost = got - want, want - got
            if extra or (lost and not (m.pluralizable and len(lost) == 1)):
                problems.append(f"placeholders {sorted(got)} != {sorted(want)}: {s!r}")
    assert not problems, f"{code}:\n" + "\n".join(problems[:20])


@pytest.mark.parametrize("code", CODES)
def test_plural_forms_are_cldrs(code: str) -> None:
    cat = _catalog(code)
    n = get_plural(Locale.parse(code)).num_plurals
    assert cat.num_plurals == n, f"{code}: {cat.num_plurals} plural forms, CLDR has {n}"
    for m in cat:
        if m.id and m.pluralizable:
            assert len(_strings(m)) == n, f"{code}: {m.id[0]!r} has {len(_strings(m))} forms"


# Room for a placeholder's value: a number or a name is short; these can be long.
_LONG_FIELDS = {"summary": 600, "commands": 200, "names": 400, "kept": 120, "error": 200}


def _room(text: str) -> int:
    return len(re.sub(r"\{([^}]*)\}", lambda m: "x" * _LONG_FIELDS.get(m.group(1), 40), text))


@pytest.mark.parametrize("code", [i18n.SOURCE, *CODES])
def test_no_text_over_a_platform_limit(code: str, template: Catalog) -> None:
    """One Telegram message at most (4,096); over Discord's 2,000 a text is sent in parts
    on line ends (bot/textsplit.py), each of which must fit; labels fit a button."""
    cat = template if code == i18n.SOURCE else _catalog(code)
    for m in cat:
        if not m.id:
            continue
        texts = _ids(m) if code == i18n.SOURCE else _strings(m)
        first = _ids(m)[0]
        ends = (".", "?", "!", ":")
        short = len(first) <= 40 and "\n" not in first and not first.rstrip().endswith(ends)
        label = short or any("LABEL" in c for c in m.auto_comments)
        for t in texts:
            assert _room(t) <= TELEGRAM_MAX, f"{code}: over Telegram's limit: {t[:60]!r}"
            parts = chunk_lines(re.sub(r"\{[^}]*\}", "x" * 40, t), DISCORD_MAX)
            assert all(len(p) <= DISCORD_MAX for p in parts), f"{code}: {t[:60]!r}"
            if label:
                assert len(t) <= LABEL_MAX, f"{code}: button label over {LABEL_MAX}: {t!r}"


def test_the_catalogs_compile() -> None:
    for code in CODES:
        with i18n.use(code):
            assert i18n.translations(code).info().get("language") == code
