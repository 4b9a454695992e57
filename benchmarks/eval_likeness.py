"""Likeness of real renders, per model family: for GPU boxes with real weights.

For each identity in a folder of identities (one sub-folder of photos per person,
like ../shared/faces), the photos go through the worker's own analysis; then K
orders per chosen style are rendered with each chosen model (``--models``: any
``SITTER_MODEL`` value: a hub id, a local folder, ``tiny``, ``tiny-klein``), through
the production ``generate`` (likeness gate, regeneration, provenance). Printed per
model family: mean and median output-to-reference similarity, faces found, pass
rate, copy rate (final portraits, and of all attempts), attempts per variation and
seconds per order; then the same per style.

    .venv/bin/python benchmarks/eval_likeness.py --models stabilityai/stable-diffusion-xl-base-1.0 \
        --identities ../shared/faces --orders 2 --styles professional_headshot,watercolor

On the tiny models (the default here) it is a smoke test: random weights draw
noise, so the figures are meaningless, and the output says so.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sitter import contract as c  # noqa: E402
from sitter.config import load_settings  # noqa: E402
from sitter.prompts import PromptLibrary  # noqa: E402

SKIP_FOLDERS = {"group", "noface"}
TINY_NOTE = (
    "NOTE: tiny random models draw noise, not faces: these figures are meaningless; "
    "this run only shows the evaluation path works. Use real weights on a GPU."
)


@dataclass
class Figures:
    """What one model (or one model and style) did."""

    label: str
    orders: int = 0
    seconds: list[float] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    variations: int = 0
    faces: int = 0
    passed: int = 0
    copies: int = 0
    attempts: int = 0
    copy_attempts: int = 0

    def add(self, result: c.GenerateResult) -> None:
        self.orders += 1
        self.seconds.append(result.seconds)
        for v in result.variations:
            self.variations += 1
            self.faces += int(v.face_found)
            self.passed += int(v.passed)
            self.copies += int(v.verdict == c.Verdict.COPY)
            self.attempts += v.attempts
            # Attempts judged copies: those redone for it, and a delivered copy.
            self.copy_attempts += v.regenerated_for.count(c.Verdict.COPY)
            self.copy_attempts += int(v.verdict == c.Verdict.COPY)
            if v.likeness is not None:
                self.scores.append(v.likeness)

    def row(self) -> str:
        n = max(self.variations, 1)

        def pct(k: int, total: int = n) -> str:
            return f"{100.0 * k / max(total, 1):5.1f}%"

        mean = f"{statistics.fmean(self.scores):.3f}" if self.scores else "  -  "
        median = f"{statistics.median(self.scores):.3f}" if self.scores else "  -  "
        secs = statistics.fmean(self.seconds) if self.seconds else 0.0
        return (
            f"{self.label:44} {self.orders:6} {mean:>6} {median:>6} {pct(self.faces):>7} "
            f"{pct(self.passed):>7} {pct(self.copies):>7} "
            f"{pct(self.copy_attempts, self.attempts):>7} {self.attempts / n:6.2f} {secs:8.2f}"
        )


HEADER = (
    f"{'family / model [style]':44} {'orders':>6} {'mean':>6} {'median':>6} {'faces':>7} "
    f"{'pass':>7} {'copy':>7} {'copy/try':>7} {'tries':>6} {'s/order':>8}"
)


def identities(folder: Path, people: int | None, max_photos: int) -> dict[str, list[Path]]:
    from cli.generate import PHOTO_SUFFIXES

    found: dict[str, list[Path]] = {}
    for d in sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in SKIP_FOLDERS):
        photos = sorted(p for p in d.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
        if photos:
            found[d.name] = photos[:max_photos]
        if people is not None and len(found) >= people:
            break
    return found


def evaluate(args: argparse.Namespace) -> tuple[list[Figures], bool]:
    """Render everything; (figures per model and per model+style, any tiny model)."""
    from cli.common import analyze
    from engine.pipeline.generate import generate
    from engine.runtime import Runtime

    lib = PromptLibrary.load()
    styles = [lib.style(s.strip()) for s in args.styles.split(",") if s.strip()]
    people = identities(Path(args.identities), args.people, args.max_photos)
    if not people:
        raise SystemExit(f"no identities (sub-folders of photos) in {args.identities}")
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="sitter-eval-"))
    refs: dict[str, list[c.Reference]] = {}
    figures: list[Figures] = []
    any_tiny = False
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        settings = load_settings(model=model, face_backend=args.face_backend, data_dir=data_dir)
        started = time.perf_counter()
        runtime = Runtime(settings).load(("faces", "pipeline", "signer"))
        loaded = runtime.require_pipeline()
        any_tiny |= loaded.tiny
        label = f"{loaded.family}{' (tiny)' if loaded.tiny else ''}: {model}"
        print(f"loaded {label} in {time.perf_counter() - started:.1f}s on {loaded.device}")
        total = Figures(label)
        per_style = {s.key: Figures(f"  [{s.key}]") for s in styles}
        for person, photos in people.items():
            if person not in refs:
                refs[person], verdicts = analyze(runtime, photos)
                ok = sum(v["accepted"] for v in verdicts)
                print(f"  {person}: {ok} of {len(photos)} photos accepted as references")
            if not refs[person]:
                continue
            for style in styles:
                for k in range(args.orders):
                    base = args.seed + 1000 * k
                    req = c.GenerateRequest(
                        generation_id=f"eval-{person}-{style.key}-{k}",
                        prompt=style.compose({}),
                        negative_prompt=style.negative,
                        style=style.key,
                        params=style.params,
                        seeds=[base + i for i in range(args.variations)],
                        references=refs[person],
                        max_attempts=args.attempts,
                        gate=style.likeness,
                    )
                    result = generate(runtime, req)
                    total.add(result)
                    per_style[style.key].add(result)
        figures += [total, *per_style.values()]
    return figures, any_tiny


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--identities", type=Path, default=ROOT.parent / "shared" / "faces")
    ap.add_argument("--models", default="tiny", help="comma-separated SITTER_MODEL values")
    ap.add_argument("--styles", default="professional_headshot,watercolor,pencil_sketch")
    ap.add_argument("--orders", type=int, default=2, help="orders (K) per identity and style")
    ap.add_argument("--variations", type=int, default=4)
    ap.add_argument("--attempts", type=int, default=3, help="likeness tries per variation")
    ap.add_argument("--people", type=int, default=None, help="at most this many identities")
    ap.add_argument("--max-photos", type=int, default=8, help="references per identity")
    ap.add_argument("--face-backend", default="dlib")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--data-dir", default=None, help="tiny models and C2PA dev keys (temp)")
    args = ap.parse_args(argv)
    if not args.identities.is_dir():
        print(f"no identities folder at {args.identities}", file=sys.stderr)
        return 1
    figures, any_tiny = evaluate(args)
    if any_tiny:
        print(TINY_NOTE)
    print(
        "\nmean/median: output-to-reference likeness (faces found); pass: accepted by the "
        "style's gate; copy: final portraits that copy a reference; copy/try: attempts "
        "rejected as copies; tries: attempts per variation\n"
    )
    print(HEADER)
    for f in figures:
        print(f.row())
    if any_tiny:
        print(TINY_NOTE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
