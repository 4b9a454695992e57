"""Measure the near-duplicate bar of engine/near_duplicate.py on real photos.

    python benchmarks/calibrate_near_duplicate.py [../shared/faces]

For every photo: copies a person could plausibly send again (a quarter of the
size, JPEG quality 15, both, mirrored, a 2% border trimmed) against the
original, and every pair of different photos (same person or not). Prints the
largest copy distance, the smallest distance between different photos, and
whether ``NEAR_BITS`` separates them.
"""

from __future__ import annotations

import io
import sys
from itertools import combinations
from pathlib import Path

from PIL import Image, ImageOps

from engine.near_duplicate import NEAR_BITS, distance, fingerprint


def _jpeg(img: Image.Image, q: int) -> Image.Image:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=q)
    return Image.open(io.BytesIO(buf.getvalue()))


def copies(img: Image.Image) -> dict[str, Image.Image]:
    w, h = img.size
    small = img.resize((max(1, w // 4), max(1, h // 4)), Image.Resampling.BILINEAR)
    t = max(1, round(min(w, h) * 0.02))
    return {
        "quarter size": small,
        "jpeg q15": _jpeg(img, 15),
        "quarter + q15": _jpeg(small, 15),
        "mirrored": ImageOps.mirror(img),
        "2% trimmed": img.crop((t, t, w - t, h - t)),
    }


def main(folder: Path) -> int:
    photos = sorted(p for p in folder.glob("*/*.jpg"))
    if not photos:
        print(f"no photos under {folder}")
        return 2
    fps: dict[Path, str] = {}
    worst_copy = (-1, "", "")
    for p in photos:
        img = ImageOps.exif_transpose(Image.open(p)).convert("RGB")
        fps[p] = fingerprint(img)
        for kind, copy in copies(img).items():
            d = distance(fps[p], fingerprint(copy))
            if d > worst_copy[0]:
                worst_copy = (d, str(p.relative_to(folder)), kind)
    closest = (64, "", "")
    for a, b in combinations(photos, 2):
        d = distance(fps[a], fps[b])
        if d < closest[0]:
            closest = (d, str(a.relative_to(folder)), str(b.relative_to(folder)))
    n = len(photos)
    print(f"{n} photos, {n * 5} copies, {n * (n - 1) // 2} pairs of different photos")
    d, where, kind = worst_copy
    print(f"largest copy distance:        {d:2d} bits ({where}, {kind})")
    print(f"smallest different-photo gap: {closest[0]:2d} bits ({closest[1]} vs {closest[2]})")
    ok = worst_copy[0] <= NEAR_BITS < closest[0]
    print(f"NEAR_BITS = {NEAR_BITS}: {'separates them' if ok else 'DOES NOT separate them'}")
    return 0 if ok else 1


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[1].parent / "shared" / "faces"
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
