"""What the shell commands that paint (``sitter generate``, ``--pack``) share: the photo
checks of a folder and the chat's safety screen for typed answers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitter import contract as c
from sitter.config import Settings

if TYPE_CHECKING:
    from engine.runtime import Runtime

MAX_ATTEMPTS = 3  # tries per variation for likeness, as in the chat


def screen(answers: dict[str, str]) -> str | None:
    """The chat's safety screen for typed answers (sexual content, minors, deception)."""
    from bot.studio.safety import screen_order

    verdict = screen_order(answers)
    return None if verdict.ok else verdict.message


def analyze(
    runtime: Runtime, photos: list[Path], subject: c.Subject = c.Subject.PERSON
) -> tuple[list[c.Reference], list[dict[str, Any]]]:
    """Run each photo through the worker's analysis, then judge them as one person's (or
    one pet's) set as the bot does (engine/analysis.judge_as_set: the majority's person,
    whatever the file order); (accepted references, verdicts)."""
    from engine.analysis import analyze_photo, judge_as_set
    from engine.intake import IntakeLimits
    from engine.pets.photos import analyze_pet_photo, judge_pet_set

    limits = IntakeLimits.from_settings(runtime.settings)
    analyzer = runtime.require_analyzer()
    refs: list[c.Reference] = []
    verdicts: list[dict[str, Any]] = []
    safety = runtime.safety_screen("reference")
    results = []
    for path in photos:
        req = c.AnalyzePhotoRequest(photo=path.read_bytes(), filename=path.name, subject=subject)
        if subject == c.Subject.PERSON:
            results.append(analyze_photo(req, analyzer, limits, safety=safety))
        else:
            results.append(
                analyze_pet_photo(req, runtime.require_pets(), analyzer, limits, safety=safety)
            )
    if subject == c.Subject.PERSON:
        judged = judge_as_set(analyzer, results)
    else:
        judged = judge_pet_set(runtime.require_pets(), subject, results)
    for path, res in zip(photos, judged, strict=True):
        verdicts.append(
            {
                "file": path.name,
                "accepted": res.accepted,
                "faces": res.face_count,
                "issues": [f"{i.problem}: {i.detail}" for i in res.issues],
            }
        )
        if res.accepted and res.embedding is not None:
            refs.append(
                c.Reference(
                    embedding=res.embedding, face_crop=res.face_crop, quality=dict(res.quality)
                )
            )
    return refs, verdicts


def load_and_check(
    settings: Settings, photos: list[Path], subject: c.Subject = c.Subject.PERSON
) -> tuple[Any, list[c.Reference], list[dict[str, Any]]]:
    """Load the models, check the photos and print each verdict; (runtime, references,
    verdicts):
    no references means none of the photos can be used (said on stderr)."""
    import sys

    from engine.runtime import Runtime

    print(f"loading {settings.model} and the {settings.face_backend} face models ...")
    pets = ("pets",) if subject != c.Subject.PERSON else ()
    runtime = Runtime(settings).load(("faces", *pets, "pipeline", "signer"))
    refs, verdicts = analyze(runtime, photos, subject)
    for v in verdicts:
        mark = "ok " if v["accepted"] else "no "
        print(f"  {mark} {v['file']}: {'; '.join(v['issues']) or 'accepted'}")
    if not refs:
        print("sitter generate: none of the photos can be used (see above)", file=sys.stderr)
    elif len(refs) < settings.min_photos:
        from engine.analysis import minimum_note

        print(f"sitter generate: {minimum_note(len(refs), settings.min_photos)}", file=sys.stderr)
    return runtime, refs, verdicts


def check_more(
    runtime: Runtime, photos: list[Path]
) -> tuple[list[c.Reference], list[dict[str, Any]]]:
    """Another person's folder (``--partner-photos``) checked as its own set, each verdict
    printed; no references: said on stderr."""
    import sys

    refs, verdicts = analyze(runtime, photos)
    for v in verdicts:
        mark = "ok " if v["accepted"] else "no "
        print(f"  {mark} {v['file']}: {'; '.join(v['issues']) or 'accepted'}")
    if not refs:
        print("sitter generate: none of the second person's photos can be used", file=sys.stderr)
    return refs, verdicts
