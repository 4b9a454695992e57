"""``sitter train --photos DIR --out FILE [--steps N]``: a personal model without a bot.

The same code as the worker's ``train_personal`` job: the photos are checked as one
person's set (as ``sitter generate`` does), the accepted ones and their aligned face
crops become the training pictures, and the LoRA is written to FILE (safetensors, in
diffusers' format for the configured model's family) with ``FILE.json`` beside it
(steps, family, base model, licence, sha256). Use it with
``sitter generate ... --personal FILE``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli.common import load_and_check
from cli.generate import PHOTO_SUFFIXES
from sitter import contract as c
from sitter.config import Settings


def _err(msg: str) -> int:
    print(f"sitter train: {msg}", file=sys.stderr)
    return 2


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    folder, out = Path(args.photos), Path(args.out)
    if not folder.is_dir():
        return _err(f"--photos {folder} is not a folder")
    if args.steps is not None and not 1 <= args.steps <= c.MAX_TRAIN_STEPS:
        return _err(f"--steps must be from 1 to {c.MAX_TRAIN_STEPS}, got {args.steps}")
    if not 1 <= args.rank <= 128:
        return _err(f"--rank must be from 1 to 128, got {args.rank}")
    photos = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES and p.is_file()
    )
    if not photos:
        return _err(f"no photos in {folder} ({', '.join(sorted(PHOTO_SUFFIXES))})")
    if out.is_dir():
        return _err(f"--out {out} is a folder; give the file to write (e.g. me.safetensors)")
    from engine.job_errors import Permanent
    from engine.quiet import quiet_libraries
    from engine.training.job import train_personal

    quiet_libraries()
    runtime, refs, verdicts = load_and_check(settings, photos)
    if not refs:
        return 1
    accepted = [folder / v["file"] for v in verdicts if v["accepted"]]
    train_photos = [
        c.TrainPhoto(image=path.read_bytes(), face_crop=ref.face_crop, quality=ref.quality)
        for path, ref in zip(accepted, refs, strict=False)
    ][: c.MAX_TRAIN_PHOTOS]
    req = c.TrainRequest(
        train_id=out.stem[:200] or "personal",
        photos=train_photos,
        steps=args.steps,
        rank=args.rank,
        seed=args.seed,
    )
    print(f"training a personal model on {len(train_photos)} photo(s) ...")
    try:
        res = train_personal(runtime, req)
    except Permanent as exc:
        return _err(str(exc))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(res.lora)
    about = res.model_dump(exclude={"lora"})
    out.with_name(out.name + ".json").write_text(json.dumps(about, indent=2), encoding="utf-8")
    use = "commercial use allowed" if res.commercial_ok else "NOT for commercial use"
    print(
        f"wrote {out} ({len(res.lora) / 1e6:.1f} MB, {res.steps} steps, {res.seconds:.0f}s): "
        f"a {res.family} LoRA on {res.base_model}; licence {res.licence} ({use})"
    )
    return 0
