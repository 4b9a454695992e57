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


def analyze(runtime: Runtime, photos: list[Path]) -> tuple[list[c.Reference], list[dict[str, Any]]]:
    """Run each photo through the worker's analysis; (accepted references, verdicts)."""
    from engine.analysis import analyze_photo
    from engine.intake import IntakeLimits

    limits = IntakeLimits.from_settings(runtime.settings)
    analyzer = runtime.require_analyzer()
    refs: list[c.Reference] = []
    verdicts: list[dict[str, Any]] = []
    for path in photos:
        req = c.AnalyzePhotoRequest(
            photo=path.read_bytes(),
            filename=path.name,
            set_embeddings=[r.embedding for r in refs],
        )
        res = analyze_photo(req, analyzer, limits, safety=runtime.safety_screen("reference"))
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
    settings: Settings, photos: list[Path]
) -> tuple[Any, list[c.Reference], list[dict[str, Any]]]:
    """Load the models, check the photos and print each verdict; (runtime, references,
    verdicts):
    no references means none of the photos can be used (said on stderr)."""
    import sys

    from engine.runtime import Runtime

    print(f"loading {settings.model} and the {settings.face_backend} face models ...")
    runtime = Runtime(settings).load(("faces", "pipeline", "signer"))
    refs, verdicts = analyze(runtime, photos)
    for v in verdicts:
        mark = "ok " if v["accepted"] else "no "
        print(f"  {mark} {v['file']}: {'; '.join(v['issues']) or 'accepted'}")
    if not refs:
        print("sitter generate: none of the photos can be used (see above)", file=sys.stderr)
    return runtime, refs, verdicts
