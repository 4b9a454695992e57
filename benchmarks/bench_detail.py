"""The face detail pass: its time per variation and how often it changes the kept version.

In one process, with the configured model (default: the tiny one) and dlib: for
every person in ../shared/faces (or scikit-image's astronaut when that folder
is absent), an order of four seeds whose references are that person's first
photo and whose "generated" images are the real renders with the person's
second photo pasted small into them (a tiny random model paints no face of its
own). Each order runs with SITTER_FACE_DETAIL=off and =always, same seeds;
the table shows the engine's time per variation for both, the difference (the
pass's cost), the pass's own per-variation figure, and how often the detailed
version scored better and was kept.

    SITTER_MODEL=tiny .venv/bin/python benchmarks/bench_detail.py [--people N] [--repeats N]
    SITTER_MODEL=tiny-klein .venv/bin/python benchmarks/bench_detail.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from sitter import contract as c  # noqa: E402
from sitter.config import load_settings  # noqa: E402

FACES = ROOT.parent / "shared" / "faces"
CANVAS = 256


def people(limit: int) -> list[tuple[str, Image.Image, Image.Image]]:
    """(name, reference photo, photo to paste) per person."""
    found = []
    for folder in sorted(p for p in FACES.glob("*") if p.is_dir()):
        photos = sorted(folder.glob("*.jpg"))
        if folder.name in ("group", "noface") or len(photos) < 2:
            continue
        found.append((folder.name, *(Image.open(p).convert("RGB") for p in photos[:2])))
    if not found:  # no shared photos: the astronaut (CC0) for both
        from skimage import data

        ast = Image.fromarray(data.astronaut()).crop((60, 0, 412, 352))
        found.append(("astronaut", ast, ast))
    return found[:limit]


def paste_small(render: Image.Image, photo: Image.Image) -> Image.Image:
    canvas = render.convert("RGB").resize((CANVAS, CANVAS), Image.Resampling.NEAREST)
    small = photo.copy()
    small.thumbnail((150, 150))
    canvas.paste(small, (40, 30))
    return canvas


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--repeats", type=int, default=2, help="runs per mode (fastest kept)")
    args = ap.parse_args()

    import torch

    from engine.pipeline import generate as gen
    from engine.runtime import Runtime

    torch.set_num_threads(args.threads)
    data = Path(tempfile.mkdtemp(prefix="bench-detail-"))
    base = load_settings(face_backend="dlib", data_dir=data)
    runtime = Runtime(base).load(("faces", "pipeline", "signer"))
    analyzer = runtime.require_analyzer()
    real_render = gen.render
    rows = []
    for name, ref_photo, shown in people(args.people):
        faces = analyzer.detect(ref_photo)
        if not faces:
            print(f"{name}: no face in the reference photo, skipped")
            continue
        from tests.identity_refs import reference_of

        req = c.GenerateRequest(
            generation_id=f"bench-{name}",
            prompt="a portrait",
            seeds=[1, 2, 3, 4],
            references=[reference_of(analyzer, ref_photo)],
            max_attempts=1,
        )

        def render(*a, _shown=shown, **kw):
            return [paste_small(im, _shown) for im in real_render(*a, **kw)]

        gen.render = render
        timings: dict[str, float] = {}
        for _ in range(args.repeats):  # alternate, keep each mode's fastest: a busy machine
            for mode in ("off", "always"):
                runtime.settings = base.model_copy(update={"face_detail": mode})
                started = time.perf_counter()
                result = gen.generate(runtime, req)
                took = (time.perf_counter() - started) / len(req.seeds)
                timings[mode] = min(timings.get(mode, took), took)
        gen.render = real_render
        details = [v.detail for v in result.variations if v.detail is not None]
        if not details:
            print(f"{name}: no face found in the pasted images, skipped")
            continue
        kept = sum(d.kept for d in details)
        rows.append((name, timings["off"], timings["always"], details, kept))
        print(
            f"{name:16s} off {timings['off'] * 1000:7.0f} ms/var  always "
            f"{timings['always'] * 1000:7.0f} ms/var  pass {len(details)}/4  kept detailed {kept}"
        )
    if not rows:
        raise SystemExit("no face found anywhere: nothing measured")
    off = statistics.median(r[1] for r in rows)
    always = statistics.median(r[2] for r in rows)
    own = statistics.median(d.seconds for r in rows for d in r[3])
    runs = sum(len(r[3]) for r in rows)
    kept = sum(r[4] for r in rows)
    lost = sum(d.likeness_after is None for r in rows for d in r[3])
    print(
        f"\nmodel {base.model}, {runtime.require_pipeline().family}, {args.threads} thread(s), "
        f"{len(rows)} people x 4 variations"
    )
    print(f"engine time per variation, detail off:    {off * 1000:7.0f} ms (median over people)")
    print(f"engine time per variation, detail always: {always * 1000:7.0f} ms")
    print(f"the pass's cost per variation:            {(always - off) * 1000:7.0f} ms")
    print(f"the pass's own figure (FaceDetail.seconds, last run): {own * 1000:5.0f} ms (median)")
    print(f"detailed version kept: {kept} of {runs} passes; face lost after the pass: {lost}")


if __name__ == "__main__":
    main()
