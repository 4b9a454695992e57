"""``sitter chat``: the studio in this terminal, no chat token needed.

The same core as on Telegram and Discord. Type a command (``/help``), text, or
the path of one or more photos (or a folder of them); buttons are shown as
numbered choices, so type the number to press one. Portraits are copied to an
output folder and their paths printed; a copy goes when its portrait does
(/forget, a moderator's removal, the retention period). Everything lives in the same database
as the bots, so quitting (Ctrl-D, /quit) and starting again continues where
you were; an order that finishes meanwhile is shown when you come back.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import shlex
import shutil
import stat
import sys
from pathlib import Path
from typing import TextIO

from bot.studio.events import (
    Command,
    Event,
    Files,
    IncomingFile,
    Press,
    Recipient,
    Reply,
    Text,
    Who,
)
from sitter.config import Settings

PLATFORM = "terminal"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".gif", ".bmp", ".tif"}
QUIT = {"/quit", "/exit", "/q"}


class Terminal:
    """Renders replies as text and numbered choices; turns typed lines into events."""

    def __init__(
        self,
        out_dir: Path,
        who: Who,
        stream: TextIO = sys.stdout,
        max_bytes: int = 20 * 1024 * 1024,
        max_files: int = 50,
    ):
        self.out_dir = out_dir
        self.who = who
        self.stream = stream
        self.max_bytes = max_bytes
        self.max_files = max_files  # SITTER_MAX_FILES_PER_MESSAGE: the rest are not read
        self.choices: dict[int, tuple[str, str]] = {}  # number -> (data, kind)
        self.removed_copies = 0

    # --- output ----------------------------------------------------------------------
    def render(self, replies: list[Reply], prefix: str = "") -> None:
        numbered: dict[int, tuple[str, str]] = {}
        for reply in replies:
            mark = "✎ " if reply.edit_key else ""  # an update of an earlier message (↻ is Retry)
            for line in reply.text.splitlines() or [""]:
                self._print(f"{prefix}{mark}{line}")
            for image in reply.images:
                saved = self.save(image.path)
                kind = "file" if image.as_file else "image"
                cap = f" {image.caption}" if image.caption else ""
                self._print(f"{prefix}  [{kind}]{cap}: {saved}")
            for row in reply.buttons:
                cells = []
                for btn in row:
                    n = len(numbered) + 1
                    numbered[n] = (btn.data, btn.kind)
                    cells.append(f"[{n}] {btn.label}")
                self._print(f"{prefix}  " + "   ".join(cells))
        if numbered:
            self.choices = numbered
        self.stream.flush()

    def copy_path(self, src: Path) -> Path:
        return self.out_dir / f"{src.parent.name}-{src.stem[:12]}{src.suffix}"

    def save(self, src: Path) -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        dest = self.copy_path(src)
        if not dest.exists():
            shutil.copyfile(src, dest)
        return dest

    def forget_copy(self, rel: str) -> None:
        """The media file ``rel`` was deleted: its copy here goes too."""
        dest = self.copy_path(Path(rel))
        if dest.is_file():
            dest.unlink()
            self.removed_copies += 1

    def prune(self, media_root: Path) -> int:
        """Delete copies whose portrait is gone (deleted while this terminal was closed)."""
        if not self.out_dir.is_dir():
            return 0
        n = 0
        for copy in self.out_dir.iterdir():
            kind, sep, stem = copy.stem.partition("-")
            if not sep or not copy.is_file():
                continue
            if not any(media_root.glob(f"u*/{kind}/{stem}*")):
                copy.unlink()
                n += 1
        return n

    def tell_removed(self) -> None:
        if self.removed_copies:
            n, self.removed_copies = self.removed_copies, 0
            s = "y" if n == 1 else "ies"
            self._print(f"(Also deleted {n} cop{s} from {self.out_dir}.)")

    def _print(self, line: str) -> None:
        print(line, file=self.stream)

    # --- input ---------------------------------------------------------------------
    def parse(self, line: str) -> Event | str | None:
        """An event, a message to print instead (str), or None to ignore the line."""
        line = line.strip()
        if not line:
            return None
        if line.isdigit():
            n = int(line)
            if n not in self.choices:
                return f"There is no choice {n} on screen; choose one of {sorted(self.choices)}."
            data, kind = self.choices[n]
            if kind == "free_text":
                return "Type your answer as a line of text."
            return Press(self.who, data)
        if line.startswith("/") and not Path(line.split()[0]).exists():
            name, _, args = line[1:].partition(" ")
            return Command(self.who, name.strip().lower(), args.strip())
        files = self._files(line)
        if files is not None:
            return Files(self.who, tuple(files)) if files else "That folder has no photos in it."
        return Text(self.who, line)

    def _files(self, line: str) -> list[IncomingFile] | None:
        try:
            parts = shlex.split(line)
        except ValueError:
            return None
        paths = [Path(p).expanduser() for p in parts]
        if not paths or not all(p.exists() for p in paths):
            return None
        found: list[Path] = []
        for p in paths:
            if p.is_dir():
                found += sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES)
            else:
                found.append(p)
        # Only the first max_files are read; the rest are handed on unread, so the
        # studio's answer counts them ("left the other N alone").
        unread = [IncomingFile(p.name, None, error="not read") for p in found[self.max_files :]]
        return [self._read(p) for p in found[: self.max_files]] + unread

    def _read(self, p: Path) -> IncomingFile:
        """Stat first: a link to /dev/zero, a pipe or a huge file is never read whole."""
        try:
            st = p.stat()  # follows links: what would be read
            if not stat.S_ISREG(st.st_mode):
                return IncomingFile(p.name, None, error="it is not a regular file")
            if st.st_size > self.max_bytes:
                mb = self.max_bytes / 1e6
                return IncomingFile(
                    p.name,
                    None,
                    st.st_size,
                    error=f"it is {st.st_size / 1e6:.1f} MB; the limit is {mb:.0f} MB",
                )
            with p.open("rb") as fh:
                data = fh.read(self.max_bytes + 1)  # the file may grow after the stat
        except OSError as exc:
            return IncomingFile(p.name, None, error=f"can't read it: {exc.strerror}")
        if len(data) > self.max_bytes:
            return IncomingFile(p.name, None, error="it grew past the size limit while read")
        return IncomingFile(p.name, data, len(data))


class TerminalOutbox:
    """Where the core's own messages (progress, finished orders) go: the same screen."""

    def __init__(self, terminal: Terminal):
        self.terminal = terminal

    async def send(self, to: Recipient, reply: Reply) -> None:
        self.terminal.render([reply], prefix="» ")


async def chat(settings: Settings, out_dir: Path, stdin: TextIO = sys.stdin) -> int:
    """Run the conversation until end of input or /quit."""
    from bot.studio.core import Studio

    user = getpass.getuser() or "you"
    terminal = Terminal(
        out_dir,
        Who(PLATFORM, user, f"terminal:{user}", user),
        max_bytes=settings.max_upload_bytes,
        max_files=settings.max_files_per_message,
    )
    studio = await Studio.open(settings)
    studio.add_outbox(PLATFORM, TerminalOutbox(terminal))
    terminal.prune(studio.store.media.root)
    studio.store.media.on_delete.append(terminal.forget_copy)
    background = asyncio.create_task(studio.run_background())
    print(f"Sitter in the terminal. Portraits go to {out_dir}. Type /help, or /quit to leave.")
    print("Send photos by typing their paths (or a folder); press a button by its number.")
    try:
        terminal.render(await studio.handle(Command(terminal.who, "start")))
        while True:
            print("> ", end="", flush=True)
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            if line.strip().lower() in QUIT:
                break
            event = terminal.parse(line)
            if event is None:
                continue
            if isinstance(event, str):
                print(event, flush=True)
                continue
            terminal.render(await studio.handle(event))
            terminal.tell_removed()
    finally:
        background.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await background
        await studio.aclose()
    print("Bye. Your session is saved; `sitter chat` continues where you left off.")
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """``sitter chat [--out DIR] [--no-worker]``."""
    from bot.app import services

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    out_dir = Path(args.out) if getattr(args, "out", None) else settings.data_dir / "out"

    async def main() -> int:
        async with services(settings, worker=not getattr(args, "no_worker", False)) as live:
            return await chat(live, out_dir)

    return asyncio.run(main())
