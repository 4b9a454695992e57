"""The locale layer (sitter/i18n.py, issue 26): which catalog a platform's code picks,
CLDR plural forms, numbers and dates per locale, the context the studio sets, and each
person's locale remembered in the store (migration 0020)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot.store.store import Store
from sitter import i18n


def test_platform_codes_resolve_to_an_offered_catalog() -> None:
    assert set(i18n.offered()) >= {"en", "ru", "es", "pt_BR", "ar"}
    assert i18n.offered()[0] == "en"
    cases = {
        "ru": "ru", "ru-RU": "ru", "es-ES": "es", "es-419": "es", "pt-BR": "pt_BR",
        "pt": "pt_BR", "pt_BR.UTF-8": "pt_BR", "ar": "ar", "ar-EG": "ar", "en-US": "en",
        "en-GB": "en", "de": "en", "fa": "en", "": "en", "C": "en", "zh-CN": "en",
    }  # fmt: skip
    for code, want in cases.items():
        assert i18n.resolve(code) == want, code
    assert i18n.known("de") is None and i18n.known("") is None  # unknown: kept unknown
    assert i18n.known("en-US") == "en" and i18n.known("pt-BR") == "pt_BR"


def test_the_terminal_follows_lang() -> None:
    assert i18n.env_locale({"LANG": "pt_BR.UTF-8"}) == "pt_BR"
    assert i18n.env_locale({"LANG": "ru_RU.UTF-8", "LC_ALL": "es_ES.UTF-8"}) == "es"
    assert i18n.env_locale({"LANG": "C"}) == "en"
    assert i18n.env_locale({}) == "en"


def test_languages_are_named_in_their_own_language() -> None:
    assert i18n.language_name("ru") == "Русский"
    assert i18n.language_name("es") == "Español"
    assert i18n.language_name("pt_BR") == "Português (Brasil)"
    assert i18n.language_name("ar") == "العربية"
    assert i18n.language_name("es", capital=False) == "español"


def test_messages_follow_the_context_and_fall_back_to_english() -> None:
    msg = "Which language should I speak with you? Pick one below."
    assert i18n._(msg) == msg
    with i18n.use("ru"):
        assert i18n._(msg).startswith("На каком языке")
        assert i18n._("A sentence no catalog has") == "A sentence no catalog has"
        with i18n.use("es-ES"):
            assert i18n.current() == "es"
        assert i18n.current() == "ru"
    with i18n.use("de"):
        assert i18n._(msg) == msg
    assert i18n.current() == "en"


async def test_each_task_keeps_its_own_language() -> None:
    async def speak(code: str) -> str:
        with i18n.use(code):
            await asyncio.sleep(0.01)
            return i18n.current()

    assert await asyncio.gather(speak("ru"), speak("ar"), speak("en")) == ["ru", "ar", "en"]


def test_plural_forms_follow_cldr(tmp_path: Path) -> None:
    """Russian has three forms, Arabic six: the PO headers Babel wrote from CLDR."""
    ru = i18n.translations("ru")
    ar = i18n.translations("ar")
    # an untranslated message keeps English forms
    assert [ru.ngettext("x", "xs", n) for n in (1, 2, 21)] == ["x", "xs", "xs"]
    plural_ru = ru.plural  # type: ignore[attr-defined]
    assert [plural_ru(n) for n in (1, 2, 5, 11, 21, 22, 25)] == [0, 1, 2, 2, 0, 1, 2]
    plural_ar = ar.plural  # type: ignore[attr-defined]
    assert [plural_ar(n) for n in (0, 1, 2, 3, 11, 100)] == [0, 1, 2, 3, 4, 5]


def test_numbers_and_dates_per_locale() -> None:
    day = dt.date(2026, 12, 8)
    with i18n.use("ru"):
        assert i18n.format_number(1234.5) == "1\xa0234,5"
        assert "дек" in i18n.format_day(day)
    with i18n.use("pt_BR"):
        assert i18n.format_number(1234.5) == "1.234,5"
        assert "dez" in i18n.format_day(day)
    with i18n.use("en"):
        assert i18n.format_number(1234.5) == "1,234.5"
        assert i18n.format_day(day) == "Dec 8, 2026"
    with i18n.use("ar"):
        assert i18n.format_number(12)  # Arabic digits or Latin, as CLDR says


@pytest.mark.studio_db
async def test_a_persons_locale_is_remembered_from_first_contact(data_dir: Path) -> None:
    store = await Store.open(data_dir / "sitter.db", data_dir / "media")
    try:
        row = await store.ensure_user("telegram", "1", "Ann", "1", locale="ru")
        assert row["locale"] == "ru"
        row = await store.ensure_user("telegram", "1", "Ann", "1", locale="es")
        assert row["locale"] == "ru"  # the platform's later word does not override
        await store.set_locale(row["id"], "ar")
        assert (await store.ensure_user("telegram", "1", "Ann", "1", locale="ru"))["locale"] == "ar"
        row = await store.ensure_user("telegram", "2", "Bo", "2", locale=None)
        assert row["locale"] is None  # unknown (English) until a code we offer comes
        assert (await store.ensure_user("telegram", "2", "Bo", "2", locale="es"))["locale"] == "es"
    finally:
        await store.close()


def test_the_environment_names_a_locale_or_none() -> None:
    assert i18n.env_known({"LANG": "ru_RU.UTF-8"}) == "ru"
    assert i18n.env_known({"LANG": "C.UTF-8"}) is None
    assert i18n.env_known({"LANG": "de_DE.UTF-8"}) is None
    assert i18n.env_known({}) is None
