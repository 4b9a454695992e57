"""``sitter photos check FILE... [--json]``: the bot's photo analysis, from a shell.

Exit status: 0 when every file is accepted, 1 otherwise. Photos are checked as
one set, in order, as if sent to the bot one after another (so a photo of a
different person than the earlier ones is named).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.analysis import analyze_photo
from engine.faces import load_analyzer
from engine.intake import IntakeLimits
from engine.safety_check import Policy, Screen, load_classifier
from sitter.config import Settings
from sitter.contract import AnalyzePhotoRequest, Embedding


def cmd_photos(args: argparse.Namespace, settings: Settings) -> int:
    analyzer = load_analyzer(settings)
    limits = IntakeLimits.from_settings(settings)
    safety = Screen(load_classifier(), Policy.from_settings(settings), "reference")
    accepted: list[Embedding] = []
    all_ok = True
    for name in args.files:
        path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            data = None
            error = f"cannot read the file: {exc.strerror or exc}"
        if data is None:
            all_ok = False
            row = {
                "file": name,
                "accepted": False,
                "face_count": 0,
                "reasons": [{"problem": "unreadable", "detail": error}],
            }
        else:
            result = analyze_photo(
                AnalyzePhotoRequest(photo=data, filename=path.name, set_embeddings=accepted),
                analyzer,
                limits,
                safety=safety,
            )
            if result.accepted and result.embedding is not None:
                accepted.append(result.embedding)
            all_ok &= result.accepted
            row = {
                "file": name,
                "accepted": result.accepted,
                "face_count": result.face_count,
                "reasons": [
                    {"problem": i.problem.value, "detail": i.detail} for i in result.issues
                ],
                "width": result.width,
                "height": result.height,
                "format": result.format,
                "quality": result.quality,
            }
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            verdict = "accepted" if row["accepted"] else "refused"
            print(f"{name}: {verdict} (faces: {row['face_count']})")
            for reason in row["reasons"]:
                print(f"  - {reason['problem']}: {reason['detail']}")
    sys.stdout.flush()
    return 0 if all_ok else 1
