"""Ages stated in typed text: "16 years old", "aged 12", "fifteen years of age",
"born in 2012", "class of 2032", "she is 14", "14 Jahre alt", "14歳". Pure functions
over the screen's views."""

from __future__ import annotations

import datetime as dt
import re

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
# Spanish and Portuguese numbers (accents stripped), with digits.
_ES_PT_UNITS = {
    "uno": 1, "um": 1, "dos": 2, "dois": 2, "duas": 2, "tres": 3, "cuatro": 4, "quatro": 4,
    "cinco": 5, "seis": 6, "siete": 7, "sete": 7, "ocho": 8, "oito": 8, "nueve": 9, "nove": 9,
    "diez": 10, "dez": 10, "once": 11, "onze": 11, "doce": 12, "doze": 12, "trece": 13,
    "treze": 13, "catorce": 14, "catorze": 14, "quatorze": 14, "quince": 15, "quinze": 15,
    "dieciseis": 16, "dezesseis": 16, "dezasseis": 16, "diecisiete": 17, "dezessete": 17,
    "dezassete": 17, "dieciocho": 18, "dezoito": 18, "veinte": 20, "vinte": 20,
    "treinta": 30, "trinta": 30, "cuarenta": 40, "quarenta": 40,
}  # fmt: skip
_ES_PT = r"(\d{1,3}|" + "|".join(sorted(_ES_PT_UNITS, key=len, reverse=True)) + r")"
_NUM = r"(\d{1,3}|" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")"
_WORDS = "(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + ")"
_PATTERNS = [
    # English: 16 years old, 16-year-old, 16yo, 16 y/o, aged 16, age 16, under 18,
    # fifteen years of age, a girl of 15 is in minors.toml's patterns
    rf"\b{_NUM}[\s-]*(?:years?|yrs?|yr)[\s-]*(?:old|of\s+age)\b",
    rf"\b{_NUM}\s*(?:yo|y/o|y\.o\.?)(?![a-z])",
    rf"\bage(?:d|\s+of)?\s*:?\s*{_NUM}\b",
    rf"\b{_NUM}(?:st|nd|rd|th)?\s+birthday\b",
    rf"\b{_NUM}\s*yrs?\b(?!\s*(?:of|ago|experience|exp|in|on|at|with|service))",
    # "she is 14", "I'm fourteen" (not "she is 5 feet tall"), and an answer that is only
    # a number word ("fourteen" as describe me; bare digits may be a button's number)
    rf"\b(?:she|he|they|i|who)(?:'s|'m|\s+is|\s+am|\s+are|\s+was)\s+(?:only\s+|just\s+)?{_NUM}"
    r"(?=\s*(?:$|[,.;:!?)]|and\b|with\b|in\b|wearing\b|on\b|at\b))",
    rf"^\W*(?:age\s+)?{_WORDS}\W*$",
    r"\bunder\s*(?:the\s+age\s+of\s+)?(\d{1,2})\b(?!\s*(?:dollars|euros|pounds|minutes|seconds))",
    # German, French, Spanish, Italian, Portuguese (accents stripped)
    rf"\b{_NUM}[\s-]*(?:jahre\s+alt|jahrig\w*)",
    rf"\b(?:de|a|agee?s?\s+de|tiene|ha|com|di)\s+{_NUM}\s+(?:ans|anos|anni)\b",
    rf"\b{_NUM}\s+(?:anos|anni)\s+de\s+edad\b",
    rf"\b(?:tem|tinha|tenho|tiene|tenia|tengo|com|de|con)\s+{_ES_PT}\s+anos\b",
    rf"\b{_ES_PT}\s+anos\s+de\s+(?:edad|idade)\b",
    rf"\b{_ES_PT}\s+aninhos\b|\b{_ES_PT}\s+anitos\b",
]  # fmt: skip
_NATIVE = [
    r"(\d{1,3})\s*(?:лет|года|год)(?!\s*назад)",  # Russian
    r"(\d{1,3})\s*-?\s*(?:ти|и|х)?\s*-?\s*летн",  # Russian: 15-летняя, 15-ти летний
    r"(?:عمر\w*|سن\w*)?\s*(\d{1,3})\s*(?:سنه|سنوات|سنين|عام|عاما|اعوام|ساله)",  # Arabic, Persian
    r"(\d{1,3})\s*(?:歳|岁|살|세)",  # Japanese, Chinese, Korean
]
# A school's graduating class: "class of 2032" leaves school at 18 in 2032.
_CLASS = re.compile(r"\bclass\s+of\s+'?((?:19|20)\d\d)\b")
_BORN = re.compile(r"\b(?:born|b\.)\s+(?:in\s+)?(?:(?:the\s+)?(?:year\s+)?)?((?:19|20)\d\d)\b")
_RE = [re.compile(p) for p in _PATTERNS]
_NATIVE_RE = [re.compile(p) for p in _NATIVE]


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _UNITS.get(word) or _ES_PT_UNITS[word]


def ages(latin_plain: str, native: str, *, year: int | None = None) -> list[int]:
    """Every age the text states, birth years as the age they make this year."""
    found = [_number(m.group(1)) for rx in _RE for m in rx.finditer(latin_plain)]
    found += [int(m.group(1)) for rx in _NATIVE_RE for m in rx.finditer(native)]
    this_year = year or dt.datetime.now(dt.UTC).year
    found += [this_year - int(m.group(1)) for m in _BORN.finditer(latin_plain)]
    found += [18 - (int(m.group(1)) - this_year) for m in _CLASS.finditer(latin_plain)]
    return found
