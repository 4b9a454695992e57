"""Media files on disk: content-addressed, one folder per user, atomic writes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Contact sheets of a person's reference photos (bot/studio/photos/reference_set.py): pictures
# of the photos, so they go wherever the photos go (a purge, /forget, the sweep).
SHEETS = "sheets"
# A pack's contact sheet (bot/studio/pack_delivery.py): a picture of its portraits, kept
# apart from the /photos sheets so opening /photos never deletes it.
PACK_SHEETS = "pack_sheets"
SHEETS_KEEP_S = 3600.0  # the retention sweep deletes older ones (both kinds)


class MediaStore:
    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        # Told the relative path of every file deleted (an adapter's copies go too).
        self.on_delete: list[Callable[[str], None]] = []

    def _deleted(self, rel: str) -> None:
        for callback in self.on_delete:
            # a copy that can't be removed must not stop the deletion itself
            with contextlib.suppress(OSError):
                callback(rel)

    def user_dir(self, user_id: int) -> Path:
        return self.root / f"u{int(user_id)}"

    def put(self, user_id: int, kind: str, data: bytes, ext: str) -> tuple[str, str]:
        """Store ``data``; return (path relative to the root, sha256). Same bytes, same file."""
        if not kind.isidentifier() or not ext.isalnum():
            raise ValueError(f"bad media kind/ext: {kind!r} {ext!r}")
        digest = hashlib.sha256(data).hexdigest()
        rel = Path(f"u{int(user_id)}") / kind / f"{digest}.{ext.lower()}"
        target = self.root / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return rel.as_posix(), digest

    def path(self, rel: str) -> Path:
        """Resolve a stored relative path, refusing anything outside the root."""
        full = (self.root / rel).resolve()
        if self.root.resolve() not in full.parents:
            raise ValueError(f"media path escapes the store: {rel!r}")
        return full

    def read(self, rel: str) -> bytes:
        return self.path(rel).read_bytes()

    def delete(self, rel: str) -> bool:
        p = self.path(rel)
        if p.exists():
            p.unlink()
            self._deleted(rel)
            return True
        return False

    def delete_kind(self, user_id: int, kind: str, keep: str | None = None) -> int:
        """Delete every file of one kind of a user (e.g. their contact sheets), but
        ``keep`` (a relative path)."""
        folder = self.user_dir(user_id) / kind
        if not kind.isidentifier() or not folder.is_dir():
            return 0
        rels = (p.relative_to(self.root).as_posix() for p in folder.iterdir())
        return sum(self.delete(rel) for rel in rels if rel != keep)

    def sweep_kind(self, kind: str, older_than_s: float) -> int:
        """Delete every user's files of one kind older than ``older_than_s`` seconds."""
        if not kind.isidentifier():
            raise ValueError(f"bad media kind: {kind!r}")
        cutoff = time.time() - older_than_s
        old = [p for p in self.root.glob(f"u*/{kind}/*") if p.stat().st_mtime < cutoff]
        return sum(self.delete(p.relative_to(self.root).as_posix()) for p in old)

    def delete_user(self, user_id: int) -> int:
        """Remove a user's whole folder; return how many files were in it."""
        folder = self.user_dir(user_id)
        if not folder.exists():
            return 0
        files = [p.relative_to(self.root).as_posix() for p in folder.rglob("*") if p.is_file()]
        shutil.rmtree(folder)
        for rel in files:
            self._deleted(rel)
        return len(files)
