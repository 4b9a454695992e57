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

``--pets cat|dog``: the identities are pets of that species (one sub-folder of photos per
animal), analysed by the pet checks (engine/pets/: the RT-DETR detector and the DINOv2
embedder of ``SITTER_PET_DETECTOR`` / ``SITTER_PET_EMBEDDER``, fetched by ``sitter models
fetch``), rendered as the animal's portraits (the pet wording of prompts/families.toml,
the lenient pet gate, the colour check). It also prints what the pet bars need:

- the embedding's separation: each photo's similarity to its own animal's other photos
  and to the other animals' (same species), with the similarity that best splits them
  (a candidate for ``engine/pets/analyzer.SAME_PET``);
- per output: its likeness to its own animal and its best likeness to another animal
  (the margin the gate's bars would need), and the coat's colour drift (delta E, hue
  distance) against its own references and the other animals' (for
  ``engine/pets/colour.DRIFT_LIMIT``).

On a GPU box with real weights (for example 10 cats, 5-10 photos each, a folder per cat):

    SITTER_MODEL=black-forest-labs/FLUX.2-klein-4B sitter models fetch
    .venv/bin/python benchmarks/eval_likeness.py --pets cat --identities ~/cats \
        --models black-forest-labs/FLUX.2-klein-4B --styles watercolor,oil_painting,pop_art

Then set SAME_PET from the split, the lenient floor from the own-versus-other margin, and
DRIFT_LIMIT between the own and the other animals' drift, and make the pet gate a
threshold (engine/pets/render.pet_policy).
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
    drifts: list[float] = field(default_factory=list)  # a pet's coat colour, delta E
    drift_redone: int = 0  # attempts redone for colour drift

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
            if v.colour is not None:
                self.drifts.append(v.colour.drift)
            self.drift_redone += v.regenerated_for.count(c.Verdict.COLOUR_DRIFT)

    def row(self) -> str:
        n = max(self.variations, 1)

        def pct(k: int, total: int = n) -> str:
            return f"{100.0 * k / max(total, 1):5.1f}%"

        mean = f"{statistics.fmean(self.scores):.3f}" if self.scores else "  -  "
        median = f"{statistics.median(self.scores):.3f}" if self.scores else "  -  "
        secs = statistics.fmean(self.seconds) if self.seconds else 0.0
        colour = ""
        if self.drifts:
            colour = f" drift {statistics.median(self.drifts):5.1f} redone {self.drift_redone}"
        return (
            f"{self.label:44} {self.orders:6} {mean:>6} {median:>6} {pct(self.faces):>7} "
            f"{pct(self.passed):>7} {pct(self.copies):>7} "
            f"{pct(self.copy_attempts, self.attempts):>7} {self.attempts / n:6.2f} {secs:8.2f}"
            f"{colour}"
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
    subject = c.Subject(args.pets) if args.pets else c.Subject.PERSON
    pet = args.pets or ""
    styles = [lib.style(s.strip()) for s in args.styles.split(",") if s.strip()]
    people = identities(Path(args.identities), args.people, args.max_photos)
    if not people:
        raise SystemExit(f"no identities (sub-folders of photos) in {args.identities}")
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="sitter-eval-"))
    refs: dict[str, list[c.Reference]] = {}
    cross: list[tuple[float, float, float, float]] = []
    figures: list[Figures] = []
    any_tiny = False
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        settings = load_settings(model=model, face_backend=args.face_backend, data_dir=data_dir)
        started = time.perf_counter()
        pets = ("pets",) if pet else ()
        runtime = Runtime(settings).load(("faces", *pets, "pipeline", "signer"))
        loaded = runtime.require_pipeline()
        any_tiny |= loaded.tiny
        label = f"{loaded.family}{' (tiny)' if loaded.tiny else ''}: {model}"
        print(f"loaded {label} in {time.perf_counter() - started:.1f}s on {loaded.device}")
        total = Figures(label)
        per_style = {s.key: Figures(f"  [{s.key}]") for s in styles}
        for person, photos in people.items():
            if person not in refs:
                refs[person], verdicts = analyze(runtime, photos, subject)
                ok = sum(v["accepted"] for v in verdicts)
                print(f"  {person}: {ok} of {len(photos)} photos accepted as references")
            if not refs[person]:
                continue
            for style in styles:
                for k in range(args.orders):
                    base = args.seed + 1000 * k
                    req = c.GenerateRequest(
                        generation_id=f"eval-{person}-{style.key}-{k}",
                        prompt=style.compose({}, lib.subject(pet=pet)),
                        reference_prompt=lib.reference_prompt(style.key, {}, pet=pet),
                        negative_prompt=style.negative,
                        style=style.key,
                        params=style.params,
                        seeds=[base + i for i in range(args.variations)],
                        references=refs[person],
                        max_attempts=args.attempts,
                        gate=style.likeness,
                        subject=subject,
                    )
                    result = generate(runtime, req)
                    total.add(result)
                    per_style[style.key].add(result)
                    if pet:
                        cross.extend(pet_cross(runtime, subject, person, result, refs))
        figures += [total, *per_style.values()]
        if pet:
            print_pet_figures(runtime, subject, refs, cross)
    return figures, any_tiny


def _split(own: list[float], other: list[float]) -> tuple[float, float]:
    """(the similarity that best splits own from other, the share it gets right)."""
    best = (0.5, 0.0)
    for t in sorted({round(x, 3) for x in own + other}):
        right = sum(x >= t for x in own) + sum(x < t for x in other)
        share = right / max(len(own) + len(other), 1)
        if share > best[1]:
            best = (t, share)
    return best


def pet_cross(
    runtime: object, subject: c.Subject, person: str, result: c.GenerateResult, refs: dict
) -> list[tuple[float, float, float, float]]:
    """Per output: (likeness to its own animal, best to another, drift to its own
    references, least drift to another's): what the pet bars must tell apart."""
    import io

    import numpy as np
    from PIL import Image

    from engine.likeness import score_against
    from engine.pets.colour import colour_check

    analyzer = runtime.subject_analyzer(subject)  # type: ignore[attr-defined]
    crops = {
        k: [Image.open(io.BytesIO(r.face_crop)).convert("RGB") for r in v if r.face_crop]
        for k, v in refs.items()
    }
    vecs = {
        k: np.stack([np.asarray(r.embedding.vector, np.float32) for r in v])
        for k, v in refs.items()
        if v
    }
    rows = []
    for v in result.variations:
        image = Image.open(io.BytesIO(v.image)).convert("RGB")
        found = analyzer.detect(image)
        if not found or found[0].embedding is None or len(vecs) < 2:
            continue
        emb, box = found[0].embedding, found[0].box
        own = score_against(analyzer, emb, vecs[person])
        other = max(score_against(analyzer, emb, r) for k, r in vecs.items() if k != person)
        drift_own = colour_check(image, box, crops[person]).drift
        drift_other = min(colour_check(image, box, crops[k]).drift for k in crops if k != person)
        rows.append((own, other, drift_own, drift_other))
    return rows


def print_pet_figures(
    runtime: object, subject: c.Subject, refs: dict, cross: list[tuple[float, float, float, float]]
) -> None:
    import numpy as np

    analyzer = runtime.subject_analyzer(subject)  # type: ignore[attr-defined]
    items = [(k, np.asarray(r.embedding.vector, np.float32)) for k, v in refs.items() for r in v]
    own = [
        analyzer.similarity(a, b)
        for i, (k, a) in enumerate(items)
        for (j, b) in items[i + 1 :]
        if k == j
    ]
    other = [
        analyzer.similarity(a, b)
        for i, (k, a) in enumerate(items)
        for (j, b) in items[i + 1 :]
        if k != j
    ]
    print(f"\npets ({subject.value}): {len(refs)} animals, {len(items)} accepted photos")
    if own and other:
        t, share = _split(own, other)
        print(
            f"  photo pairs: same animal median {statistics.median(own):.3f} "
            f"(min {min(own):.3f}), other animals median {statistics.median(other):.3f} "
            f"(max {max(other):.3f}); best split {t:.3f} ({100 * share:.1f}% right); "
            f"SAME_PET now {analyzer.same_person_threshold}"
        )
    if cross:
        cols = list(zip(*cross, strict=True))
        names = ("likeness to own", "best to another", "drift to own", "least drift to another")
        for name, col in zip(names, cols, strict=True):
            print(
                f"  outputs: {name:24} median {statistics.median(col):.3f} "
                f"min {min(col):.3f} max {max(col):.3f}"
            )


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
    ap.add_argument(
        "--pets",
        choices=["cat", "dog"],
        default=None,
        help="the identities are pets of this species (see the module doc)",
    )
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
