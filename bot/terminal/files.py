"""Photos named on a typed line: paths, folders, globs, ``~``, ``file://`` URLs.

A line is taken as paths when the whole of it is one existing path (an unquoted
path with spaces, as a terminal's drag and drop may paste it), or when each of its
words (shell quoting understood) looks like a path (``/…``, ``~…``, ``./…``,
``file:…``, ``*.jpg``) or is a folder of photos here. One that looks like a path but
is not there is said to be not found, instead of reaching the studio as a command or
an answer; a bare word that is not a folder of photos stays a typed answer. Each
file is named by the shortest end of its path that tells it apart from the others
(``obama/1.jpg``, ``biden/1.jpg``), so a person can tell which answer is about which;
control characters in a name are shown as escapes (bot/terminal/visible.py), never sent
to the terminal. A folder of tens of thousands of files is listed in linear time
(benchmarks/bench_terminal_files.py).
"""

from __future__ import annotations

import glob
import os
import shlex
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from urllib.parse import unquote, urlparse

from bot.studio.core.events import IncomingFile
from sitter.visible import visible

# What engine/intake.py's ACCEPTED_FORMATS decode (JPEG, PNG, WEBP, HEIF, AVIF, GIF, BMP,
# TIFF; MPO is JPEG), by the names Pillow and cameras give them. Not imported from
# there: the intake loads numpy, and the bot side loads no ML library.
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".mpo", ".png", ".apng", ".webp", ".gif", ".bmp"}
    | {".dib", ".heic", ".heics", ".heif", ".heifs", ".hif", ".avif", ".avifs", ".tif", ".tiff"}
)
_PATHY = ("/", "~", "./", "../", "file:")


@dataclass
class Found:
    """What a line named: the files to send, what is missing, what was left out."""

    files: list[IncomingFile] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # in a folder, but not a photo
    empty_folders: list[str] = field(default_factory=list)


def looks_like_path(word: str) -> bool:
    """Absolute, home, relative to here, a file URL, or a photo's name (globs too)."""
    return word.startswith(_PATHY) or PurePath(word).suffix.lower() in IMAGE_SUFFIXES


def exists(path: str | Path) -> bool:
    """Path.exists() that says no instead of raising: a typed sentence longer than a
    file name may be (255 bytes), or with a NUL in it, is simply not a path."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


def _local(word: str) -> str:
    """A ``file://`` URL as a local path; any other word as it is, ``~`` expanded."""
    if word.lower().startswith("file:"):
        url = urlparse(word)
        word = unquote(url.path) if url.netloc in ("", "localhost") else word
    return str(Path(word).expanduser())


def _is_path(word: str, local: str) -> bool:
    """A word meant as a path. A bare existing word ("Library", "photos") only when it is
    a folder with photos in it: typed answers are words too."""
    if looks_like_path(word):
        return True
    p = Path(local)
    if "/" in word:
        return exists(p)
    try:
        return p.is_dir() and any(q.suffix.lower() in IMAGE_SUFFIXES for q in p.iterdir())
    except OSError:
        return False


def _words(line: str) -> list[str] | None:
    """The line's paths (as local paths), or None when it is not a line of paths."""
    whole = _local(line.strip().strip("'\""))
    if exists(whole) and (looks_like_path(line.strip()) or "/" in whole):
        return [whole]  # one path with spaces in it, unquoted
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    local = [_local(w) for w in words]
    if not words or not all(_is_path(w, p) for w, p in zip(words, local, strict=True)):
        return None
    return local


def find(line: str, max_files: int, max_bytes: int, sent: list[Path] | None = None) -> Found | None:
    """The photos a line names, or None when it is not about files at all. ``sent``: the
    files sent before in this session, whose names a new file's name must not repeat
    (Obama's 1.jpg, then Biden's: "biden/1.jpg")."""
    words = _words(line)
    if words is None:
        return None
    found = Found()
    paths: list[Path] = []
    for word in words:
        matches = sorted(glob.glob(word)) if glob.has_magic(word) else [word]
        if not matches or not all(exists(m) for m in matches):
            shown = visible(word)
            found.missing.append(f"{shown} (matches nothing)" if glob.has_magic(word) else shown)
            continue
        for m in map(Path, matches):
            if not m.is_dir():
                paths.append(m)
                continue
            # One pass over the folder, each entry judged once (a list lookup per file
            # made a folder of 20,000 files take 38 s).
            inside = sorted(q for q in m.iterdir() if not q.name.startswith("."))
            photos = [q for q in inside if q.suffix.lower() in IMAGE_SUFFIXES]
            found.skipped += [
                visible(q.name)
                for q in inside
                if q.suffix.lower() not in IMAGE_SUFFIXES and q.is_file()
            ]
            if not photos:
                found.empty_folders.append(visible(str(m)))
            paths += photos
    now = [Path(os.path.normpath(p.absolute())) for p in paths]
    here = set(now)
    earlier = [p for p in dict.fromkeys(sent or []) if p not in here]
    names = distinct_names(earlier + paths)[len(earlier) :]
    if sent is not None:
        sent.extend(now)
    # Only the first max_files are read; the rest are handed on unread, so the
    # studio's answer counts them ("left the other N alone").
    found.files = [read(p, n, max_bytes) for p, n in zip(paths[:max_files], names, strict=False)]
    found.files += [IncomingFile(n, None, error="not read") for n in names[max_files:]]
    return found


def distinct_names(paths: list[Path]) -> list[str]:
    """Each path's shortest ending that no other path in the list shares, with its
    control characters made visible."""
    parts = [Path(p).absolute().parts for p in paths]
    depth = [1] * len(parts)
    while True:
        names = [str(PurePath(*ps[-d:])) for ps, d in zip(parts, depth, strict=True)]
        counts = Counter(names)
        clash = [i for i, n in enumerate(names) if counts[n] > 1 and depth[i] < len(parts[i])]
        if not clash:
            return [visible(n) for n in names]
        for i in clash:
            depth[i] += 1


def read(p: Path, name: str, max_bytes: int) -> IncomingFile:
    """Stat first: a link to /dev/zero, a pipe or a huge file is never read whole."""
    try:
        st = p.stat()  # follows links: what would be read
        if not stat.S_ISREG(st.st_mode):
            return IncomingFile(name, None, error="it is not a regular file")
        if st.st_size > max_bytes:
            mb = max_bytes / 1e6
            return IncomingFile(
                name,
                None,
                st.st_size,
                error=f"it is {st.st_size / 1e6:.1f} MB; the limit is {mb:.0f} MB",
            )
        with p.open("rb") as fh:
            data = fh.read(max_bytes + 1)  # the file may grow after the stat
    except OSError as exc:
        return IncomingFile(name, None, error=f"can't read it: {exc.strerror}")
    if len(data) > max_bytes:
        return IncomingFile(name, None, error="it grew past the size limit while read")
    return IncomingFile(name, data, len(data))
