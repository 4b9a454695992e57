"""Write sitter/confusables.txt: letters that look like Latin ones, folded
(read by sitter/confusables.py).

Sources (nothing is downloaded; run it again when either changes):

- Unicode's confusables.txt (UTS #39, Unicode License v3), as shipped inside the
  ``confusable-homoglyphs`` 3.3.1 wheel (MIT) in ``confusables.json``: every
  non-ASCII character whose look-alike is one Latin letter or digit (optionally with
  combining marks, as Cherokee SA's "U with a stroke") maps to that letter. Its
  "I -> l" convention is undone by the character's own name (IOTA, LETTER I).
- The Unicode character names in Python's ``unicodedata`` for what confusables.txt
  leaves out: small capitals (``ɴ``), regional-indicator letters, squared and circled
  letters NFKC does not fold.
- A few pairs seen in attacks and missing from both (issue 22's Cherokee ``Ꮑ``),
  listed in ``EXTRA`` below with the reason.

Usage (dev only; the bot reads the generated module, never these packages)::

    .venv/bin/pip install confusable-homoglyphs==3.3.1
    .venv/bin/python scripts/make_confusables.py
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "sitter" / "confusables.txt"

# Look-alikes missing from confusables.txt and from the names, each seen in use.
EXTRA = {
    "\u13c1": "n",  # CHEROKEE LETTER NE (issue 22: "ᏁᏌᎠᎬ")
}
_I_NAME = re.compile(r"\bIOTA\b|LETTER (?:SMALL |CAPITAL )?(?:DOTLESS )?I\b")
_NAMED = re.compile(
    r"(?:LATIN LETTER SMALL CAPITAL|REGIONAL INDICATOR SYMBOL LETTER|"
    r"(?:NEGATIVE |SQUARED |CIRCLED |PARENTHESIZED )+LATIN (?:CAPITAL |SMALL )?LETTER|"
    r"LATIN (?:CAPITAL |SMALL )?LETTER (?:TURNED |REVERSED )?SMALL CAPITAL|"
    r"MODIFIER LETTER (?:CAPITAL|SMALL)(?: CAPITAL)?) ([A-Z])$"
)


def _from_confusables() -> dict[str, str]:
    spec = importlib.util.find_spec("confusable_homoglyphs")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("install confusable-homoglyphs==3.3.1 first (dev only)")
    data = json.loads(
        (Path(spec.submodule_search_locations[0]) / "confusables.json").read_text("utf-8")
    )
    out: dict[str, str] = {}
    for char, alikes in data.items():
        if len(char) != 1 or char.isascii():
            continue
        for alike in alikes:
            marks = unicodedata.normalize("NFD", alike["c"])
            base = "".join(ch for ch in marks if not unicodedata.combining(ch))
            if len(base) == 1 and base.isascii() and base.isalnum():
                letter = base.lower()
                name = unicodedata.name(char, "")
                if letter == "l" and _I_NAME.search(name):
                    letter = "i"
                out[char] = letter
                break
    return out


def _from_names() -> dict[str, str]:
    out = {}
    for code in range(0x80, 0x20000):
        char = chr(code)
        if unicodedata.normalize("NFKC", char).isascii():
            continue  # NFKC folds it already (fullwidth, mathematical, circled...)
        m = _NAMED.search(unicodedata.name(char, ""))
        if m:
            out[char] = m.group(1).lower()
    return out


def table() -> dict[str, str]:
    found = _from_confusables()
    found.update(_from_names())
    found.update(EXTRA)
    # What NFKC already folds to ASCII needs no entry (the screen applies NFKC first).
    return {
        k: v
        for k, v in sorted(found.items())
        if not unicodedata.normalize("NFKC", k).isascii() and k.lower() != v
    }


def main() -> None:
    rows = table()
    lines = [
        "# Letters that look like Latin ones -> the Latin letter (generated, do not edit).",
        "# Made by scripts/make_confusables.py from Unicode's confusables.txt (UTS #39, Unicode",
        "# License v3; read from the confusable-homoglyphs 3.3.1 wheel, MIT), Unicode character",
        "# names (small capitals, regional indicators) and a few listed extras. Applied after",
        "# NFKC, so what NFKC folds (fullwidth, mathematical letters) is not listed.",
        "# Unicode data: Copyright (c) 1991-2024 Unicode, Inc. Distributed under the Unicode",
        "# License v3 (https://www.unicode.org/license.txt), whose notice applies to this file.",
        "# code point<TAB>letter<TAB>character name",
    ]
    lines += [f"{ord(k):05X}\t{v}\t{unicodedata.name(k, '?')}" for k, v in rows.items()]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(rows)} look-alikes -> {OUT}")


if __name__ == "__main__":
    main()
