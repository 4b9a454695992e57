"""The typed-answer screen in every offered language (issue 26): the same rules (nudity,
minors, real public figures, hate, length) for Russian, Spanish, Brazilian Portuguese and
Arabic/Persian, on normalised text. Corpus: tests/safety_corpus_languages.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from safety_corpus_languages import HELD_OUT_PASS, HELD_OUT_REFUSE, PASS, REFUSE

from bot.studio.safety import Screen
from bot.studio.safety.languages import transliterations
from sitter.text_views import arabic_stem, normalize
from sitter.wizard_steps import SUBJECT_MAX_BYTES

_REFUSALS = [(lang, text) for lang, texts in REFUSE.items() for text in texts]
_PASSES = [(lang, text) for lang, texts in PASS.items() for text in texts]


@pytest.fixture(scope="module")
def screen() -> Screen:
    return Screen.from_folder()


@pytest.mark.parametrize(("lang", "text"), _REFUSALS, ids=repr)
def test_the_language_corpus_is_refused(screen: Screen, lang: str, text: str) -> None:
    verdict = screen.check(text)
    assert not verdict.ok, f"{lang}: {text!r} passed"
    assert verdict.reason


@pytest.mark.parametrize(("lang", "text"), _PASSES, ids=repr)
def test_ordinary_answers_in_each_language_pass(screen: Screen, lang: str, text: str) -> None:
    verdict = screen.check(text)
    assert verdict.ok, f"{lang}: {text!r} refused for {verdict.matched!r} ({verdict.category})"


def test_the_held_out_corpus_is_mostly_refused_and_passes(screen: Screen) -> None:
    """Cases written after the lists: a floor, not a tuned result."""
    for lang in HELD_OUT_REFUSE:
        refused = sum(not screen.check(t).ok for t in HELD_OUT_REFUSE[lang])
        passed = sum(screen.check(t).ok for t in HELD_OUT_PASS[lang])
        assert refused >= 0.8 * len(HELD_OUT_REFUSE[lang]), lang
        assert passed == len(HELD_OUT_PASS[lang]), lang


def test_every_language_is_covered_by_every_rule(screen: Screen) -> None:
    cases = {
        "ru": ("голая", "школьница", "путин", "свастика"),
        "es": ("desnuda", "niña", "shakira", "esvástica"),
        "pt_BR": ("pelada", "criança", "bolsonaro", "suástica"),
        "ar": ("عارية", "طفلة", "ترامب", "نازي"),
    }
    for lang, words in cases.items():
        got = [screen.check(w).category for w in words]
        assert got == ["sexual", "minors", "impersonation", "hate"], (lang, got)


def test_cyrillic_and_latin_meet_both_ways(screen: Screen) -> None:
    assert "golaya" in transliterations("голая")
    for text in ("golaya", "GOLAJA", "razdetaya", "shkolnitsa", "порно", "нуде", "гoлая"):
        assert not screen.check(text).ok, text
    assert screen.check("mask and a tramp costume").ok  # short words are not transliterated


def test_arabic_is_folded_before_matching(screen: Screen) -> None:
    assert normalize("عَارِيَـــة") == normalize("عارية") == "عاريه"
    assert normalize("أحمد إلى آخر") == "احمد الي اخر"
    assert arabic_stem("والعارية") == "عارية"
    assert arabic_stem("بالبكيني") == "بكيني"
    assert not screen.check("ﻋﺎﺭﻳﺔ").ok  # presentation forms (NFKC)


def test_ages_in_each_language(screen: Screen) -> None:
    for text in ("ей 15 лет", "15-летняя", "tiene 15 años", "tem quinze anos", "عمرها ١٥ سنة"):
        assert screen.check(text).category == "minors", text
    for text in ("мне 35 лет", "tengo 40 años", "tenho 30 anos", "عمري 30 سنة", "hace quince años"):
        assert screen.check(text).ok, text


def test_an_order_split_across_slots_in_russian(screen: Screen) -> None:
    verdict = screen.check_order({"subject": "студентка", "attire": "в бикини"})
    assert not verdict.ok and verdict.category == "youth_revealing"


def test_length_is_counted_in_bytes_for_every_script() -> None:
    """The length rule is the wizard's (bytes of UTF-8, what the prompt budget counts):
    a Cyrillic or Arabic letter is two bytes, so the same limit holds in every script."""
    assert len("я".encode()) == 2 and len("ع".encode()) == 2
    assert SUBJECT_MAX_BYTES > 0


def test_a_language_table_for_an_unknown_category_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sexual.toml").write_text('reason = "r"\nterms = ["x"]\n', encoding="utf-8")
    (tmp_path / "languages").mkdir()
    (tmp_path / "languages" / "xx.toml").write_text('[violence]\nterms = ["y"]\n', "utf-8")
    with pytest.raises(ValueError, match="unknown categories"):
        Screen.from_folder(tmp_path)


def test_the_benchmark_runs_short() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "screen_languages.py"), "--short"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "corpus    ru" in out and "ms each" in out


def test_the_reasons_in_the_catalogs_are_the_files_reasons(screen: Screen) -> None:
    from bot.studio.safety.words import REASONS

    files = {c.name: c.reason for c in (*screen.categories, *screen.pairs)}
    assert files == REASONS


def test_a_refusal_is_said_in_the_persons_language(screen: Screen) -> None:
    from sitter import i18n

    verdict = screen.check_order({"attire": "голая"})
    assert verdict.message.startswith("I can't use “golaya” in your attire. Sitter does not")
    with i18n.use("ru"):
        assert verdict.message.startswith("Не могу использовать «golaya» в поле «одежда».")
    with i18n.use("es"):
        assert "Sitter no crea imágenes de desnudos" in verdict.message
