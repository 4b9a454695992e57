"""``sitter avatar FILE --out DIR``: round avatars of a portrait, as the avatar job makes them.

Writes ``<name>-avatar-512.png`` and ``<name>-avatar-1024.png`` (labelled, signed
with the portrait as parent) or, when the face cannot fit a circle, prints why and
exits 1. Only the face models and the signer load (no generation pipeline).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sitter import contract as c
from sitter.config import Settings


def cmd_avatar(args: argparse.Namespace, settings: Settings) -> int:
    source, out = Path(args.file), Path(args.out)
    if not source.is_file():
        print(f"sitter avatar: {source} is not a file", file=sys.stderr)
        return 2
    from engine.avatar import make_avatars
    from engine.runtime import Runtime

    runtime = Runtime(settings).load(("faces", "signer"))
    req = c.AvatarRequest(image=source.read_bytes(), badge=not args.no_badge)
    result = make_avatars(req, runtime.require_analyzer(), runtime.require_signer())
    if result.problem is not None:
        print(f"sitter avatar: {result.message}", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    for avatar in result.avatars:
        path = out / f"{source.stem}-avatar-{avatar.size}.png"
        path.write_bytes(avatar.image)
        print(f"  {path}")
    left, top, right, _ = result.crop
    print(
        f"cut {right - left} px square at ({left}, {top}); face centre "
        f"{result.offset:.1%} of the side from the middle; {result.seconds:.2f}s"
    )
    return 0
