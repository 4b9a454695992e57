"""``sitter generate --photos DIR --style NAME --out DIR``: the studio without a bot.

``--partner-photos DIR`` (and ``--placement``) makes portraits of two people: the first
folder's person and the second's, each checked as a set, each face judged against its
own person (engine/gate_pair.py).

The same code as the worker: photo intake and analysis, the style's prompt from
prompts/, generation with the likeness check, AI provenance on every file. It
writes the four PNGs and ``summary.json`` (prompt, parameters, model, each
photo's verdict and each variation's seed and likeness). Runs offline with
``SITTER_MODEL=tiny SITTER_FACE_BACKEND=dlib``.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cli.common import MAX_ATTEMPTS, check_more, load_and_check, screen
from sitter import contract as c
from sitter.config import Settings
from sitter.wizard_steps import SUBJECT_MAX_BYTES

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".avif", ".bmp", ".tif"}
PHOTO_SUFFIXES |= {".tiff", ".gif"}


MAX_BASE_SEED = 2**32 - 4  # four seeds from it, each a valid generator seed


def style_help() -> str:
    """``--style`` help naming the styles (read from prompts/ when the parser is built)."""
    try:
        from sitter.prompts import PromptLibrary

        lib = PromptLibrary.load()
        names = ", ".join(f"{s.name!r}" for s in sorted(lib.styles.values(), key=lambda s: s.name))
    except Exception:  # a broken prompts/ folder is reported when the command runs
        names = "see prompts/styles/"
    return f"style, by name or key: {names}"


def _err(msg: str) -> int:
    print(f"sitter generate: {msg}", file=sys.stderr)
    return 2


def _photos_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES and p.is_file())


def _together(args: argparse.Namespace) -> tuple[Path | None, c.Placement | None, str | None]:
    """(the second person's folder, the placement, an error) from the two-person options."""
    given, how = getattr(args, "partner_photos", None), getattr(args, "placement", None)
    placement = None
    if how:
        try:
            placement = c.Placement(how.strip().lower().replace("-", "_").replace(" ", "_"))
        except ValueError:
            known = ", ".join(p.value for p in c.Placement)
            return None, None, f"--placement {how!r} is not one of: {known}"
    if not given:
        if placement is not None:
            return None, None, "--placement needs --partner-photos (the second person's photos)"
        return None, None, None
    folder = Path(given)
    if args.pack:
        return None, None, "--partner-photos takes --style (a pack is made for one person)"
    if not folder.is_dir():
        return None, None, f"--partner-photos {folder} is not a folder"
    if not _photos_in(folder):
        return None, None, f"no photos in {folder} ({', '.join(sorted(PHOTO_SUFFIXES))})"
    if folder.resolve() == Path(args.photos).resolve():
        return None, None, "--partner-photos must be the second person's own folder"
    return folder, placement, None


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    from engine.quiet import quiet_libraries
    from sitter.prompts import PromptError, PromptLibrary

    # 1. Check every argument before any model loads (that takes minutes on a real model)
    # or a model library is imported (seconds): a missing folder is refused at once.
    if args.seed is not None and not 0 <= args.seed <= MAX_BASE_SEED:
        return _err(f"--seed must be a whole number from 0 to {MAX_BASE_SEED}, got {args.seed}")
    pet_photos, pet = getattr(args, "pet_photos", None), getattr(args, "pet", None)
    if bool(pet_photos) != bool(pet):
        return _err("--pet-photos and --pet (cat or dog) go together")
    subject = c.Subject(pet) if pet else c.Subject.PERSON
    if pet and args.pack:
        return _err("--pack takes a person's photos; a pet's portrait takes --style")
    folder, out = Path(pet_photos or args.photos), Path(args.out)
    if not folder.is_dir():
        return _err(f"--photos {folder} is not a folder")
    photos = _photos_in(folder)
    if not photos:
        return _err(f"no photos in {folder} ({', '.join(sorted(PHOTO_SUFFIXES))})")
    partner_folder, placement, wrong = _together(args)
    if wrong:
        return _err(wrong)
    personal = None
    if getattr(args, "personal", None):
        path = Path(args.personal)
        if not path.is_file():
            return _err(f"--personal {path} is not a file (make one with `sitter train`)")
        if path.stat().st_size > c.MAX_LORA_BYTES:  # refused before it is read
            size, most = path.stat().st_size / 1e6, c.MAX_LORA_BYTES / 1e6
            return _err(
                f"--personal {path} is {size:.0f} MB; a personal model is {most:.0f} MB at most"
            )
        if args.pack:
            return _err("--personal does not work with --pack yet: order the looks one by one")
        import hashlib

        blob = path.read_bytes()
        personal = c.PersonalModel(lora=blob, sha256=hashlib.sha256(blob).hexdigest())
    if args.pack:
        from cli.pack import cmd_pack

        quiet_libraries()
        return cmd_pack(args, settings, photos, out)
    try:
        library = PromptLibrary.load()
        found = library.find_style(args.style)  # "Oil painting" as in the chat, or oil_painting
        style = found if found is not None else library.style(args.style)
    except PromptError as exc:
        return _err(str(exc))
    aspect = None
    if args.aspect:
        from engine.formats import parse_aspect

        try:
            aspect = parse_aspect(args.aspect)
        except ValueError as exc:
            return _err(f"--aspect: {exc}")
    given = vars(args)
    answers = {k: given[k] or "" for k in ("attire", "setting", "lighting", "composition")}
    described = " ".join((given.get("subject") or "").split())
    if (n := len(described.encode("utf-8"))) > SUBJECT_MAX_BYTES:
        return _err(f"--subject is {n} bytes; keep it under {SUBJECT_MAX_BYTES}, as in the chat")
    refusal = screen({**answers, "subject": described})  # screened as the chat does
    if refusal:
        return _err(refusal)
    species = pet or ""
    prompt = style.compose(answers, library.subject(described, pet=species))
    reference_prompt = library.reference_prompt(style.key, answers, described, pet=species)

    quiet_libraries()
    from engine.pipeline.generate import generate, resolve_params

    try:
        runtime, refs, verdicts = load_and_check(settings, photos, subject)
    except FileNotFoundError as exc:  # the pet models not fetched: how to, no traceback
        return _err(str(exc))
    if not refs:
        return 1
    partner_refs: list[c.Reference] = []
    partner_verdicts: list[dict[str, object]] = []
    if partner_folder is not None:
        print(f"the second person's photos ({partner_folder}):")
        partner_refs, partner_verdicts = check_more(runtime, _photos_in(partner_folder))
        if not partner_refs:
            return 1

    base = args.seed if args.seed is not None else secrets.randbelow(2**31)
    req = c.GenerateRequest(
        generation_id=f"cli-{int(time.time())}",
        prompt=prompt,
        reference_prompt=reference_prompt,
        negative_prompt=style.negative,
        style=style.key,
        params=style.params,
        seeds=[base + i for i in range(4)],
        references=refs,
        max_attempts=MAX_ATTEMPTS,
        gate=style.likeness,
        aspect=aspect,
        partner_references=partner_refs,
        placement=placement,
        personal=personal,
        subject=subject,
    )
    from engine.job_errors import Permanent

    try:
        result = generate(runtime, req)
    except (ValueError, Permanent) as exc:  # a prompt too long, a model refused
        return _err(str(exc))
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, v in enumerate(result.variations, 1):
        name = f"{style.key}-{i}-seed{v.seed}.png"
        (out / name).write_bytes(v.image)
        rows.append({"file": name, **v.model_dump(exclude={"image"})})
        score = "no face" if v.likeness is None else f"{v.likeness:.2f}"
        if v.colour is not None:
            score += f", coat colour delta E {v.colour.drift:.1f} (limit {v.colour.limit:.0f})"
        bar = "" if v.threshold is None else f", needed {v.threshold:.2f}"
        redone = ", ".join(r.value for r in v.regenerated_for) or "none"
        if partner_refs:
            theirs = "none" if v.partner_similarity is None else f"{v.partner_similarity:.2f}"
            score = f"{score} (first person), {theirs} (second person)"
        print(
            f"  {name}: likeness {score} ({v.verdict.value if v.verdict else v.passed}{bar}, "
            f"{v.attempts} attempt(s), redone for: {redone})"
        )
    from engine.pets.render import pet_policy

    gate = pet_policy(style.likeness) if pet else style.likeness  # what judged the outputs
    summary = {
        "style": style.key,
        "subject": described or None,
        "pet": pet,
        "prompt": _worded(runtime, req),
        "negative_prompt": style.negative,
        "params": req.params.model_dump(),  # what the style asks for
        "aspect": aspect.value if aspect else None,
        "params_used": asdict(resolve_params(runtime.require_pipeline(), req.params, aspect)),
        "model": result.model,
        "adapter": result.adapter,
        "device": result.device,
        "seconds": result.seconds,
        "threshold": runtime.subject_analyzer(subject).same_person_threshold,
        "likeness_gate": gate.model_dump(mode="json"),
        "photos": verdicts,
        "partner_photos": partner_verdicts or None,
        "placement": placement.value if placement else None,
        "personal_model": result.personal_sha256 or None,
        "variations": rows,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(f"wrote 4 portraits and summary.json to {out} in {result.seconds:.1f}s")
    return 0


def _worded(runtime: Any, req: c.GenerateRequest) -> str:
    """The order as the model reads it (two people: the family's two-person wording)."""
    family = runtime.require_pipeline().model_family
    if not req.partner_references:
        return str(family.order_prompt(req.prompt, req.reference_prompt))
    return str(family.together_prompt(req.prompt, req.reference_prompt, req.placement))
