"""``sitter verify FILE...``: read back the AI labels of images (XMP, note, C2PA)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from engine.provenance import ProvenanceError, verify
from sitter.config import Settings


def _dev_anchor(settings: Settings) -> str | None:
    """The local development root CA, if this machine has made one (never creates it)."""
    from engine.signing import DEV_DIR, DEV_FILES

    path = Path(settings.data_dir) / DEV_DIR / DEV_FILES[0]
    return path.read_text() if path.is_file() else None


def _plain(exc: BaseException) -> str:
    """An OSError in words ("no such file"), not "[Errno 2] No such file or directory: ..."."""
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "this is a folder, not an image file"
    if isinstance(exc, PermissionError):
        return "not allowed to read this file"
    if isinstance(exc, OSError):
        return f"cannot read the file ({exc.strerror or exc})"
    return str(exc)


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    """Exit code 0 when every file carries all AI labels with a valid C2PA signature."""
    anchors = Path(args.trust).read_text() if args.trust else None
    if anchors is None and not args.no_dev_anchor:
        anchors = _dev_anchor(settings)
    worst = 0
    for name in args.files:
        path = Path(name)
        try:
            report = verify(path.read_bytes(), trust_anchors=anchors)
        except (OSError, ProvenanceError) as exc:
            error = _plain(exc)
            print(json.dumps({"file": name, "error": error}) if args.json else f"{name}: {error}")
            worst = max(worst, 2)
            continue
        if not report.ai_labelled:
            worst = max(worst, 1)
        if args.json:
            print(json.dumps({"file": name, "ai_labelled": report.ai_labelled, **asdict(report)}))
        else:
            verdict = "AI-labelled" if report.ai_labelled else "NOT fully labelled"
            print(f"{name}: {verdict}")
            print("  " + report.summary().replace("\n", "\n  "))
    return worst
