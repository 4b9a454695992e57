"""``sitter generate --pack NAME``: every look of a content pack (prompts/packs/), as the
bot renders a pack order: each look's prompt from its style and the pack's answers
(its own, and ``--attire`` etc. for the slots it leaves open), ``images_per_look``
portraits each, into ``OUT/<look>/``, then ``contact-sheet.jpg`` (numbered as the bot
numbers a pack) and ``summary.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import sys
import time
from pathlib import Path

from sitter import contract as c
from sitter.config import Settings

SLOTS = ("attire", "setting", "lighting", "composition")


def _err(msg: str) -> int:
    print(f"sitter generate: {msg}", file=sys.stderr)
    return 2


def folder_name(name: str) -> str:
    """A look's folder: its name in lower-case-with-dashes ("Studio grey" -> studio-grey)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "look"


def cmd_pack(args: argparse.Namespace, settings: Settings, photos: list[Path], out: Path) -> int:
    from bot.studio.photos.contact_sheet import contact_sheet
    from cli.common import MAX_ATTEMPTS, load_and_check, screen
    from sitter.packs import find_pack, load_packs
    from sitter.prompts import PromptError, PromptLibrary

    try:
        library = PromptLibrary.load()
        packs = load_packs(library)
    except PromptError as exc:
        return _err(str(exc))
    pack = find_pack(packs, args.pack)
    if pack is None:
        names = ", ".join(f"{p.name!r} ({k})" for k, p in sorted(packs.items()))
        return _err(f"no pack {args.pack!r}; known: {names or 'none'}")
    asked = {k: vars(args)[k] or "" for k in SLOTS if k in pack.asked}
    if refusal := screen(asked):
        return _err(refusal)

    from engine.pipeline.generate import generate

    runtime, refs, verdicts = load_and_check(settings, photos)
    if not refs:
        return 1
    base = args.seed if args.seed is not None else secrets.randbelow(2**31)
    started, number = time.monotonic(), 1
    looks, pictures = [], []
    for i, look in enumerate(pack.looks):
        style = library.styles[look.style]
        answers = pack.answers_for(look, asked)
        seeds = [base + i * pack.images_per_look + k for k in range(pack.images_per_look)]
        req = c.GenerateRequest(
            generation_id=f"cli-pack-{int(time.time())}-{i + 1}",
            prompt=style.compose(answers),
            reference_prompt=library.reference_prompt(style.key, answers),
            negative_prompt=style.negative,
            style=style.key,
            params=style.params,
            seeds=seeds,
            references=refs,
            max_attempts=MAX_ATTEMPTS,
            gate=style.likeness,
        )
        try:
            result = generate(runtime, req)
        except ValueError as exc:
            return _err(f"{look.name}: {exc}")
        folder = out / folder_name(look.name)
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for v in result.variations:
            name = f"{number}-{style.key}-seed{v.seed}.png"
            (folder / name).write_bytes(v.image)
            pictures.append(v.image)
            rows.append({"number": number, "file": f"{folder.name}/{name}",
                         **v.model_dump(exclude={"image"})})  # fmt: skip
            number += 1
        print(f"  {look.name}: {len(rows)} portraits in {folder}/ ({result.seconds:.1f}s)")
        looks.append(
            {"look": look.name, "style": style.key, "answers": answers, "folder": folder.name,
             "prompt": req.prompt, "reference_prompt": req.reference_prompt,
             "seconds": result.seconds, "variations": rows}
        )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    if pictures:
        (out / "contact-sheet.jpg").write_bytes(contact_sheet(pictures))
    summary = {
        "pack": pack.key,
        "name": pack.name,
        "images_per_look": pack.images_per_look,
        "images": len(pictures),
        "asked": asked,
        "model": settings.model,
        "seconds": round(time.monotonic() - started, 2),
        "photos": verdicts,
        "looks": looks,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(
        f"wrote {len(pictures)} portraits in {len(looks)} looks, contact-sheet.jpg and "
        f"summary.json to {out} in {summary['seconds']:.1f}s"
    )
    return 0
