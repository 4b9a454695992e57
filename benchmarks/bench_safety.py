"""Prompt safety screen: how fast it is, and how often it refuses ordinary words.

- Speed: every shipped style template and wizard preset, and the disguised
  spellings of tests/test_safety_screen.py, screened many times.
- False refusals: every word of an English dictionary screened on its own, when
  the ``english_words`` package is importable (not a project dependency:
  ``pip install --target /tmp/ew english-words`` and ``PYTHONPATH=/tmp/ew``);
  the refused words are listed so a person can judge them.

    .venv/bin/python benchmarks/bench_safety.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def shipped_texts() -> list[str]:
    texts = []
    wizard = tomllib.loads((ROOT / "prompts" / "wizard.toml").read_text(encoding="utf-8"))
    for step in wizard.get("steps", []):
        texts += [p["value"] for p in step.get("presets", [])]
    for path in sorted((ROOT / "prompts" / "styles").glob("*.toml")):
        texts.append(tomllib.loads(path.read_text(encoding="utf-8")).get("template", ""))
    return texts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()

    from test_safety_screen import IMPERSONATION, INNOCENT, MINORS, SEXUAL

    from bot.studio.safety import Screen

    t0 = time.perf_counter()
    screen = Screen.from_folder()
    print(f"lists loaded and compiled in {(time.perf_counter() - t0) * 1000:.0f} ms")

    for name, texts in (
        ("shipped templates and presets", shipped_texts()),
        ("disguised refusals (tests)", SEXUAL + MINORS + IMPERSONATION),
        ("innocent prompts (tests)", INNOCENT),
    ):
        per = []
        for _ in range(args.rounds):
            for t in texts:
                s = time.perf_counter()
                screen.check(t)
                per.append(time.perf_counter() - s)
        chars = statistics.mean(len(t) for t in texts)
        print(
            f"{name}: {len(texts)} texts, mean {chars:.0f} chars: "
            f"median {statistics.median(per) * 1e3:.2f} ms, "
            f"p99 {sorted(per)[int(len(per) * 0.99)] * 1e3:.2f} ms per check"
        )

    try:
        from english_words import get_english_words_set
    except ImportError:
        print("english_words not importable: dictionary false-refusal check skipped")
        return 0
    words = sorted(get_english_words_set(["web2"], lower=True))
    refused = {}
    for w in words:
        v = screen.check(w)
        if not v.ok:
            refused[w] = v.category
    print(
        f"dictionary (web2): {len(refused)} of {len(words)} words refused "
        f"({len(refused) / len(words):.3%}); judge them:"
    )
    for cat in sorted(set(refused.values())):
        ws = [w for w, c in refused.items() if c == cat]
        print(f"  {cat} ({len(ws)}): " + ", ".join(ws))
    return 0


if __name__ == "__main__":
    sys.exit(main())
