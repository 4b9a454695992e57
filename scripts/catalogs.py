"""The catalogs: extract every message marked for translation from the code and bring
each locale's PO file up to date (new messages added untranslated, gone ones dropped,
translations kept), with Babel.

    .venv/bin/python scripts/catalogs.py            # update locales/*/LC_MESSAGES/sitter.po
    .venv/bin/python scripts/catalogs.py --new xx   # start a catalog for a new locale

Marked messages: ``_("...")``, ``N_("...")``, ``ngettext("one", "many", n)`` (sitter/i18n.py)
in bot/ and sitter/. The catalogs are read as PO at run time (no .mo to build);
tests/test_catalogs.py checks them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from babel.messages.catalog import Catalog  # noqa: E402
from babel.messages.extract import extract_from_dir  # noqa: E402
from babel.messages.pofile import read_po, write_po  # noqa: E402

from sitter.i18n import DOMAIN, LOCALES_DIR, SOURCE, po_path  # noqa: E402

KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
FOLDERS = ("bot", "sitter")


def template() -> Catalog:
    """Every marked message in the code, with where it is."""
    pot = Catalog(domain=DOMAIN, project="Sitter", fuzzy=False)
    for folder in FOLDERS:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / folder,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=("LABEL", "TRANSLATORS:"),
            strip_comment_tags=False,
        ):
            pot.add(
                message,
                locations=[(f"{folder}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return pot


def update(code: str, pot: Catalog) -> Path:
    path = po_path(code)
    if path.is_file():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=code, domain=DOMAIN)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(locale=code, domain=DOMAIN, project="Sitter", fuzzy=False)
    catalog.update(pot, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new", metavar="CODE", help="start a catalog for this locale")
    args = parser.parse_args()
    pot = template()
    codes = sorted(p.name for p in LOCALES_DIR.iterdir() if po_path(p.name).is_file())
    if args.new:
        codes = sorted({*codes, args.new})
    for code in codes:
        if code != SOURCE:
            print(update(code, pot).relative_to(ROOT), len(pot), "messages")


if __name__ == "__main__":
    main()
