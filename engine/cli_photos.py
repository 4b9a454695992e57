"""``sitter photos check FILE... [--as-set] [--json]``: the bot's photo analysis, from a shell.

With ``--pet cat|dog`` the files are a pet's photos (engine/pets/photos.py): exactly one
animal of that species, no person, large, sharp and well exposed; ``--as-set`` then
keeps the animal in most of them.

Exit status: 0 when every file is accepted, 1 otherwise. By default each file is
checked on its own (any number of people). With ``--as-set`` the files are one
person's set, judged as the bot judges a set (engine/analysis.judge_as_set): the
person in most of the photos is kept, whatever order the files came in (without a
majority, the person of the first files), and the photos of anyone else are named.
It also says when fewer photos are usable than the studio's minimum.

Decoders' own chatter (PIL's EXIF warnings, libtiff's messages on stderr) is kept
off the terminal: the verdict says what matters.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

from engine.analysis import analyze_photo, judge_as_set, minimum_note
from engine.faces import load_analyzer
from engine.intake import IntakeLimits
from engine.pets.photos import analyze_pet_photo, judge_pet_set
from engine.safety_check import Policy, Screen, load_classifier
from sitter.config import Settings
from sitter.contract import AnalyzePhotoRequest, AnalyzePhotoResult, Subject
from sitter.visible import visible


@contextlib.contextmanager
def quiet_decoders() -> Iterator[None]:
    """No library warnings on stderr while decoding (Python warnings and C libraries)."""
    sys.stderr.flush()
    saved = None
    with contextlib.suppress(OSError, ValueError):
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        if saved is not None:
            os.dup2(saved, 2)
            os.close(saved)


def _read(path: Path, limit: int) -> tuple[bytes | None, str]:
    try:
        st = path.stat()
        if not path.is_file():
            return None, "it is not a regular file"
        if st.st_size > limit:
            return None, f"it is {st.st_size / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB"
        return path.read_bytes(), ""
    except FileNotFoundError:
        return None, "no such file"
    except OSError as exc:
        return None, f"cannot read the file: {exc.strerror or exc}"


def _row(name: str, result: AnalyzePhotoResult) -> dict[str, object]:
    return {
        "file": name,
        "accepted": result.accepted,
        "face_count": result.face_count,
        "reasons": [{"problem": i.problem.value, "detail": i.detail} for i in result.issues],
        "width": result.width,
        "height": result.height,
        "format": result.format,
        "quality": result.quality,
        "species": result.species.value if result.species else None,
    }


def cmd_photos(args: argparse.Namespace, settings: Settings) -> int:
    as_set = bool(args.as_set)
    subject = Subject(args.pet) if getattr(args, "pet", None) else Subject.PERSON
    missing = ""  # said after quiet_decoders: stderr is muted inside it
    with quiet_decoders():
        analyzer = load_analyzer(settings)
        pets = None
        if subject != Subject.PERSON:
            from engine.pets.models import load_pet_models

            try:
                pets = load_pet_models(settings)
            except (OSError, ValueError) as exc:
                missing = str(exc)
    if missing:
        print(f"sitter photos: {missing}", file=sys.stderr)
        return 2
    limits = IntakeLimits.from_settings(settings)
    safety = Screen(load_classifier(), Policy.from_settings(settings), "reference")
    results: list[AnalyzePhotoResult | str] = []  # a result, or why the file wasn't read
    for name in args.files:
        path = Path(name)
        data, error = _read(path, settings.max_upload_bytes)
        if data is None:
            results.append(error)
            continue
        request = AnalyzePhotoRequest(photo=data, filename=path.name, subject=subject)
        with quiet_decoders():
            if pets is not None:
                results.append(analyze_pet_photo(request, pets, analyzer, limits, safety=safety))
            else:
                results.append(analyze_photo(request, analyzer, limits, safety=safety))
    if as_set:  # the set as a whole, as the bot judges it (not in file order)
        read = [r for r in results if isinstance(r, AnalyzePhotoResult)]
        if pets is not None:
            judged = iter(judge_pet_set(pets, subject, read))
        else:
            judged = iter(judge_as_set(analyzer, read))
        results = [next(judged) if isinstance(r, AnalyzePhotoResult) else r for r in results]
    all_ok = True
    for name, result in zip(args.files, results, strict=True):
        if isinstance(result, str):
            row: dict[str, object] = {
                "file": name,
                "accepted": False,
                "face_count": 0,
                "reasons": [{"problem": "unreadable", "detail": result}],
            }
        else:
            row = _row(name, result)
        all_ok &= bool(row["accepted"])
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            verdict = "accepted" if row["accepted"] else "refused"
            found = f"species: {row.get('species')}" if pets else f"faces: {row['face_count']}"
            print(f"{visible(name)}: {verdict} ({found})")
            reasons = row["reasons"]
            assert isinstance(reasons, list)  # _row's list of {problem, detail}
            for reason in reasons:
                print(visible(f"  - {reason['problem']}: {reason['detail']}"))
    if as_set:
        usable = sum(1 for r in results if isinstance(r, AnalyzePhotoResult) and r.accepted)
        if usable < settings.min_photos:
            # stderr under --json: stdout stays one JSON object per file
            print(minimum_note(usable, settings.min_photos), file=sys.stderr if args.json else None)
            all_ok = False
    sys.stdout.flush()
    return 0 if all_ok else 1
