"""Calibrate the output safety check (open_nsfw) on real photos and generated images.

Prints the scores, the highest of each group, how many reach the configured
threshold (``SITTER_SAFETY_THRESHOLD``, default
:data:`sitter.config.DEFAULT_SAFETY_THRESHOLD`) and the classifier's time per image
on one core:

1. every photo of ../shared/faces (ordinary portraits, groups, no face);
2. the decodable files of ../shared/bad-images;
3. what the tests generate: the tiny model's 64 px variations (the prompts of every
   style, as the worker renders them), their labelled copies and 4x upscaled copies,
   and the studio tests' stand-in engine pictures (tests/studio_engine.py).

    .venv/bin/python benchmarks/calibrate_safety.py [--seeds 8] [--upscale 4]
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import io  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw  # noqa: E402

from engine.safety_check import load_classifier  # noqa: E402
from sitter.config import load_settings  # noqa: E402

TIMES: list[float] = []


def scored(classifier, image: Image.Image) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    s = classifier.score(image)
    TIMES.append(time.perf_counter() - t)
    return s


def report(name: str, scores: list[tuple[float, str]], threshold: float) -> None:
    if not scores:
        print(f"{name}: nothing scored")
        return
    scores.sort(reverse=True)
    over = [n for s, n in scores if s >= threshold]
    top = ", ".join(f"{n} {s:.3f}" for s, n in scores[:3])
    print(
        f"{name}: n={len(scores)} max {scores[0][0]:.3f} median "
        f"{statistics.median(s for s, _ in scores):.3f}; over {threshold}: {len(over)} "
        f"{over[:5]}; highest: {top}"
    )


def photos(classifier, folder: Path) -> list[tuple[float, str]]:  # type: ignore[no-untyped-def]
    from engine.intake import PhotoRefused, decode_photo

    out = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix == ".md":
            continue
        try:
            image = decode_photo(path.read_bytes()).image
        except PhotoRefused:
            continue
        out.append((scored(classifier, image), str(path.relative_to(folder))))
    return out


def generated(classifier, seeds: int, n_upscale: int) -> dict[str, list[tuple[float, str]]]:  # type: ignore[no-untyped-def]
    """The tiny model's images through the production path (``generate``, scores only:
    action ``log``), and their labelled and upscaled copies."""
    import importlib.util

    from engine.badge import label
    from engine.pipeline.generate import generate
    from engine.runtime import Runtime
    from engine.upscale import upscale
    from sitter import contract as c
    from sitter.prompts import PromptLibrary

    data = Path(tempfile.mkdtemp(prefix="sitter-safety-"))
    settings = load_settings(
        model="tiny", face_backend="dlib", data_dir=data, safety_threshold=1.0, safety_action="log"
    )
    rt = Runtime(settings)
    rt.load(("faces", "pipeline", "signer", "upscaler", "safety"), warm_up=False)
    analyzer = rt.require_analyzer()
    spec = importlib.util.find_spec("insightface")
    face = Path(next(iter(spec.submodule_search_locations))) if spec else None
    photo = face / "data" / "images" / "Tom_Hanks_54745.png" if face else None
    if photo is None or not photo.is_file():
        from skimage import data as skdata

        image = Image.fromarray(skdata.astronaut())
    else:
        image = Image.open(photo).convert("RGB")
    found = analyzer.detect(image)[0]
    crop = io.BytesIO()
    analyzer.aligned_crop(image, found, 256).save(crop, "PNG")
    ref = c.Reference(
        embedding=c.Embedding(backend=analyzer.name, vector=found.embedding.tolist()),
        face_crop=crop.getvalue(),
    )
    lib = PromptLibrary.load()
    prompts = [("a studio portrait of a person", "")] + [
        (st.compose({}), st.negative) for st in lib.styles.values()
    ]
    out: dict[str, list[tuple[float, str]]] = {"tiny": [], "labelled": [], "upscaled": []}
    made = 0
    for p_i, (prompt, negative) in enumerate(prompts):
        req = c.GenerateRequest(
            generation_id=f"calibrate-{p_i}",
            prompt=prompt,
            negative_prompt=negative,
            seeds=list(range(p_i * seeds, (p_i + 1) * seeds)),
            references=[ref],
            max_attempts=1,
        )
        for v in generate(rt, req).variations:
            name = f"prompt{p_i}/seed{v.seed}"
            assert v.safety is not None
            out["tiny"].append((v.safety, name))
            lab = label(v.image, signer=rt.require_signer())
            out["labelled"].append((scored(classifier, Image.open(io.BytesIO(lab))), name))
            if made < n_upscale and rt.upscaler is not None:
                big, _ = upscale(v.image, 4, rt.upscaler)
                out["upscaled"].append((scored(classifier, Image.open(io.BytesIO(big))), name))
                made += 1
    return out


def stand_in(classifier, n: int) -> list[tuple[float, str]]:  # type: ignore[no-untyped-def]
    """tests/studio_engine.py's pictures: a skin-coloured oval on a seeded colour."""
    out = []
    for seed in range(n):
        rng = random.Random(seed)
        im = Image.new("RGB", (64, 64), tuple(rng.randrange(256) for _ in range(3)))
        ImageDraw.Draw(im).ellipse((16, 12, 48, 52), fill=(230, 190, 160))
        out.append((scored(classifier, im), f"seed{seed}"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--seeds", type=int, default=8, help="seeds per prompt (at most 8)")
    ap.add_argument("--upscale", type=int, default=4, help="how many to upscale 4x")
    args = ap.parse_args()
    threshold = load_settings().safety_threshold
    t = time.perf_counter()
    classifier = load_classifier()
    print(f"classifier loaded in {time.perf_counter() - t:.2f} s; threshold {threshold}")
    classifier.score(Image.new("RGB", (64, 64)))
    if (args.shared / "faces").is_dir():
        report("shared/faces", photos(classifier, args.shared / "faces"), threshold)
        report("shared/bad-images", photos(classifier, args.shared / "bad-images"), threshold)
    else:
        print(f"no photos at {args.shared}")
    photo_times = list(TIMES)
    for name, scores in generated(classifier, args.seeds, args.upscale).items():
        report(f"generated {name}", scores, threshold)
    report("studio stand-in engine", stand_in(classifier, 64), threshold)
    if photo_times:
        print(
            f"time per image (one core): photos median {statistics.median(photo_times) * 1000:.0f}"
            f" ms; all {len(TIMES)} images median {statistics.median(TIMES) * 1000:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
