"""The typed-answer screen's word lists in each offered language (issue 26): refused % of
what must be refused and passed % of ordinary answers, on the corpus in
tests/safety_corpus_languages.py (the tuned corpus and the held-out one), and the time
a screen takes per answer.

    .venv/bin/python benchmarks/screen_languages.py [--short]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from safety_corpus_languages import HELD_OUT_PASS, HELD_OUT_REFUSE, PASS, REFUSE  # noqa: E402

from bot.studio.safety import Screen  # noqa: E402


def rates(screen: Screen, refuse: list[str], ok: list[str]) -> tuple[int, int, list[str]]:
    refused = [t for t in refuse if not screen.check(t).ok]
    passed = [t for t in ok if screen.check(t).ok]
    wrong = [f"missed {t!r}" for t in refuse if t not in refused]
    wrong += [f"refused {t!r} ({screen.check(t).matched})" for t in ok if t not in passed]
    return len(refused), len(passed), wrong


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--short", action="store_true", help="the tuned corpus only")
    args = parser.parse_args()
    screen = Screen.from_folder()
    sets = [("corpus", REFUSE, PASS)] + (
        [] if args.short else [("held out", HELD_OUT_REFUSE, HELD_OUT_PASS)]
    )
    for name, refuse, ok in sets:
        for lang in refuse:
            r, p, wrong = rates(screen, refuse[lang], ok[lang])
            print(
                f"{name:9} {lang:6} refused {r}/{len(refuse[lang])} "
                f"({100 * r / len(refuse[lang]):.0f}%)  passed {p}/{len(ok[lang])} "
                f"({100 * p / len(ok[lang]):.0f}%)"
            )
            for line in wrong:
                print(f"          {line}")
    texts = [t for d in (REFUSE, PASS) for ts in d.values() for t in ts]
    start = time.perf_counter()
    for text in texts:
        screen.check(text)
    per = (time.perf_counter() - start) / len(texts) * 1000
    print(f"{len(texts)} answers screened, {per:.2f} ms each")


if __name__ == "__main__":
    main()
