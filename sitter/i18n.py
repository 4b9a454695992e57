"""The studio in each person's language: gettext catalogs read with Babel.

English is the source and the fallback. Catalogs are plain PO files in
``locales/<code>/LC_MESSAGES/sitter.po``, compiled in memory when first used (Babel's
``read_po`` then ``write_mo``): no build step, and a PO edited by a translator is what
runs after a restart. Plural forms come from each PO's header, written from CLDR's rules
by Babel (Russian three, Arabic six). Numbers and dates are formatted per locale by
Babel.

The locale is a context variable (as aiogram's I18n does it), set by the studio for each
event from the person's stored locale (``users.locale``) and by the tracker for each
person it writes to, so the words modules call :func:`_` at send time without a locale
argument. Pure, platform-free: the ground floor.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gettext as _gettext
import io
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"
DOMAIN = "sitter"
SOURCE = "en"
# A language without its own catalog but a close one (Discord sends pt-BR; Telegram may
# send pt). Portuguese readers in Portugal read Brazilian Portuguese without trouble.
_CLOSE = {"pt": "pt_br", "pt_pt": "pt_br", "fa": ""}

_current: ContextVar[str] = ContextVar("sitter_locale", default=SOURCE)

__all__ = [
    "DOMAIN",
    "LOCALES_DIR",
    "N_",
    "SOURCE",
    "_",
    "current",
    "env_known",
    "env_locale",
    "format_day",
    "format_moment",
    "format_number",
    "gettext",
    "known",
    "language_name",
    "ngettext",
    "offered",
    "po_path",
    "resolve",
    "switch",
    "use",
]


def po_path(code: str, folder: Path = LOCALES_DIR) -> Path:
    return folder / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=1)
def offered() -> tuple[str, ...]:
    """English and every locale with a catalog, in a stable order."""
    found = sorted(p.name for p in LOCALES_DIR.iterdir() if po_path(p.name).is_file())
    return (SOURCE, *(c for c in found if c != SOURCE)) if LOCALES_DIR.is_dir() else (SOURCE,)


def resolve(code: str | None) -> str:
    """An offered locale for a platform's code (``ru``, ``es-ES``, ``pt-BR``,
    ``pt_BR.UTF-8``), English when none fits."""
    if not code:
        return SOURCE
    key = code.split(".")[0].split("@")[0].replace("-", "_").strip()
    by_lower = {c.lower(): c for c in offered()}
    k = key.lower()
    language = k.split("_")[0]
    for candidate in (k, _CLOSE.get(k, k), language, _CLOSE.get(language, language)):
        if candidate in by_lower:
            return by_lower[candidate]
        if candidate == "":
            break  # a language we do not offer on purpose (Persian: English)
    return SOURCE


def known(code: str | None) -> str | None:
    """The offered locale a platform's code names, None when it names none we offer (kept
    unknown: English now, and the right catalog once one is added)."""
    if not code:
        return None
    resolved = resolve(code)
    return resolved if resolved != SOURCE or code.lower().startswith("en") else None


def _env_value(env: Mapping[str, str] | None) -> str:
    env = os.environ if env is None else env
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if value := env.get(name, ""):
            return "" if value in ("C", "POSIX", "C.UTF-8") else value
    return ""


def env_locale(env: Mapping[str, str] | None = None) -> str:
    """The terminal's locale from ``LC_ALL``, ``LC_MESSAGES`` or ``LANG``, resolved."""
    return resolve(_env_value(env))


def env_known(env: Mapping[str, str] | None = None) -> str | None:
    """The offered locale the environment names, None when it names none (``C``)."""
    return known(_env_value(env))


def language_name(code: str, *, capital: bool = True) -> str:
    """A language in its own name (``Русский``, ``Español``, ``Português (Brasil)``); a
    button's label has a capital, a sentence's word (``español``) none."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError):
        return code
    return name[:1].upper() + name[1:] if capital else name


@lru_cache(maxsize=16)
def translations(code: str) -> _gettext.NullTranslations:
    """A locale's catalog compiled in memory (English: the source, untranslated)."""
    path = po_path(code)
    if code == SOURCE or not path.is_file():
        return _gettext.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=code, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def current() -> str:
    return _current.get()


@contextlib.contextmanager
def use(code: str | None) -> Iterator[str]:
    """Speak ``code`` (resolved) inside the block: an event, a message to one person."""
    resolved = resolve(code)
    token = _current.set(resolved)
    try:
        yield resolved
    finally:
        _current.reset(token)


def switch(code: str | None) -> str:
    """Speak ``code`` for the rest of this event (inside the studio's :func:`use`, which
    puts the person's language back when the event ends)."""
    resolved = resolve(code)
    _current.set(resolved)
    return resolved


def gettext(message: str) -> str:
    return translations(current()).gettext(message)


_ = gettext


def ngettext(singular: str, plural: str, n: int) -> str:
    """The plural form for ``n`` by the locale's CLDR rule (format ``{n}`` yourself)."""
    return translations(current()).ngettext(singular, plural, n)


def attribute(words: Mapping[str, str], module: str, name: str) -> str:
    """A words module's sentence constant, translated when read (the module's
    ``__getattr__``): ``w.AGREE`` is "I agree", or "Согласен" while Russian is spoken."""
    try:
        message = words[name]
    except KeyError:
        raise AttributeError(f"module {module!r} has no attribute {name!r}") from None
    return gettext(message)


def N_(message: str) -> str:
    """Marks a message for the catalogs where it is defined; translated where used."""
    return message


def format_number(n: float) -> str:
    return format_decimal(n, locale=current())


def format_day(day: dt.date, fmt: str = "medium") -> str:
    return format_date(day, format=fmt, locale=current())


def format_moment(moment: dt.datetime, fmt: str = "medium") -> str:
    return format_datetime(moment, format=fmt, locale=current())
