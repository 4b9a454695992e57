"""Letters that look like Latin ones -> the Latin letter: :data:`FOLD`, a
``str.translate``-style table read from ``confusables.txt`` beside this file (generated
by scripts/make_confusables.py from Unicode's confusables.txt and character names)."""

from __future__ import annotations

from pathlib import Path

TABLE = Path(__file__).with_name("confusables.txt")


def _load(path: Path = TABLE) -> dict[int, str]:
    fold: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, letter, _name = line.split("\t", 2)
            fold[int(code, 16)] = letter
    return fold


FOLD: dict[int, str] = _load()
