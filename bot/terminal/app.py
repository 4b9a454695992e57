"""``sitter chat``: the studio in this terminal, no chat token needed.

The same core as on Telegram and Discord. Type a command (``/help``), text, or
the path of one or more photos (or a folder of them); buttons are shown as
numbered choices, so type the number to press one. Portraits are copied to an
output folder and their paths printed; a copy goes when its portrait does
(/forget, a moderator's removal, the retention period). Everything lives in the same database
as the bots, so quitting (Ctrl-D, /quit) and starting again continues where
you were; an order that finishes meanwhile is shown when you come back.

Numbers stay what they were printed as: a message that arrives on its own (results,
progress) numbers its buttons after the ones on screen, so a choice typed while it
arrived still presses what the person read.
"""

from __future__ import annotations

import getpass
import re
import shutil
import sys
from pathlib import Path
from typing import TextIO

from bot.adapter import Services
from bot.studio.core.events import Command, Event, Files, Press, Recipient, Reply, Text, Who
from bot.terminal import files
from bot.terminal.lines import LineReader
from bot.terminal.visible import visible

PLATFORM = "terminal"
QUIT = {"/quit", "/exit", "/q"}
COMMAND = re.compile(r"/[A-Za-z][A-Za-z0-9_]*(@\S+)?(\s.*)?", re.DOTALL)
TERMINAL_HELP = (
    "In this terminal:\n"
    "a number – press the button shown with it\n"
    "paths of photos or folders – send them (quotes, ~, *.jpg and file:// work)\n"
    "/quit (or Ctrl-D) – leave; `./dev run` (or `sitter chat`) continues where you left off"
)


def spoken(numbers: list[int]) -> str:
    """[1, 2] -> "1 or 2"; 1..6 -> "1–6"; 1..6 and 13..20 -> "1–6 or 13–20"."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts: list[str] = []
    for run in runs:
        parts += [f"{run[0]}–{run[-1]}"] if len(run) > 2 else [str(n) for n in run]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


class Terminal:
    """Renders replies as text and numbered choices; turns typed lines into events."""

    def __init__(
        self,
        out_dir: Path,
        who: Who,
        stream: TextIO | None = None,
        max_bytes: int = 20 * 1024 * 1024,
        max_files: int = 50,
    ):
        self.out_dir = out_dir
        self.who = who
        self.stream = stream if stream is not None else sys.stdout
        self.max_bytes = max_bytes
        self.max_files = max_files  # SITTER_MAX_FILES_PER_MESSAGE: the rest are not read
        self.asked: dict[int, tuple[str, str]] = {}  # the last answer's buttons: n -> data, kind
        self.arrived: dict[int, tuple[str, str]] = {}  # buttons of messages that came on their own
        self.expect_text = False  # a free-text button was pressed: the next line is the answer
        self.at_prompt = False  # "> " is on screen, waiting for a line
        self.removed_copies = 0
        self._free_text_pressed = False

    @property
    def choices(self) -> dict[int, tuple[str, str]]:
        return {**self.arrived, **self.asked}

    # --- output ----------------------------------------------------------------------
    def render(self, replies: list[Reply], prefix: str = "", background: bool = False) -> None:
        """Print replies. An answer's buttons replace the last answer's, numbered from 1
        unless a message that arrived on its own (results) still holds numbers: then
        after those, which stay valid, so nothing on screen changes meaning (a Report's
        reasons never take the numbers of the Upscale buttons above them)."""
        if background and self.at_prompt:
            self._print("")  # off the "> " line
        start = max(self.choices if background else self.arrived, default=0) + 1
        numbered: dict[int, tuple[str, str]] = {}
        for reply in replies:
            mark = "✎ " if reply.edit_key else ""  # an update of an earlier message (↻ is Retry)
            # An edit lands below what it points at here (elsewhere it replaces a message above).
            text = reply.text.replace("↓", "↑") if reply.edit_key else reply.text
            for line in text.splitlines() or [""]:
                self._print(f"{prefix}{mark}{line}")
            for image in reply.images:
                saved = self.save(image.path)
                kind = "file" if image.as_file else "image"
                cap = f" {image.caption}" if image.caption else ""
                self._print(f"{prefix}  [{kind}]{cap}: {saved}")
            for row in reply.buttons:
                cells = []
                for btn in row:
                    n = start + len(numbered)
                    numbered[n] = (btn.data, btn.kind)
                    cells.append(f"[{n}] {btn.label}")
                self._print(f"{prefix}  " + "   ".join(cells))
        if background:
            self.arrived.update(numbered)
        else:
            if numbered:
                self.asked = numbered
            self.expect_text = self._free_text_pressed and not numbered
            self._free_text_pressed = False
        if background and self.at_prompt:
            print("> ", end="", file=self.stream)
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
        # Names come from the person's disk and other chats: escapes in them never act.
        print(visible(line, keep="\t"), file=self.stream)

    # --- input ---------------------------------------------------------------------
    def parse(self, line: str) -> Event | str | None:
        """An event, a message to print instead (str), or None to ignore the line."""
        line = line.strip()
        if not line:
            return None
        command = self._command(line)
        if self.expect_text and command is None:
            self.expect_text = False  # the answer to "Type my own" / "Add details"
            return Text(self.who, line)
        self.expect_text = False
        if line.isdigit():
            return self._choose(int(line), line)
        if command is not None:
            return command
        found = files.find(line, self.max_files, self.max_bytes)
        if found is None:
            return Text(self.who, line)
        return self._files(found)

    def _choose(self, n: int, line: str) -> Event | str:
        choices = self.choices
        if n in choices:
            data, kind = choices[n]
            self._free_text_pressed = kind == "free_text"
            return Press(self.who, data)
        takes_words = any(kind == "free_text" for _, kind in choices.values())
        if not choices or (takes_words and n > 2 * max(choices)):
            return Text(self.who, line)  # a step that takes words: "1984" is an answer
        return f"There is no choice {n} on screen; choose {spoken(list(choices))}."

    def _command(self, line: str) -> Command | None:
        if not COMMAND.fullmatch(line) or files.exists(line.split()[0]):
            return None
        name, _, args = line[1:].partition(" ")
        return Command(self.who, name.split("@")[0].strip().lower(), args.strip())

    def _files(self, found: files.Found) -> Files | str:
        if found.missing:
            hint = "" if len(found.missing) == 1 else " (a path with spaces goes in quotes)"
            where = ", ".join(found.missing)
            return f"Not found: {where}{hint}. I sent nothing; check the path and try again."
        if not found.files:
            kinds = "JPEG, PNG, WebP, HEIC, AVIF, GIF, BMP or TIFF"
            return f"That folder has no photos in it (I take {kinds} files)."
        if found.skipped:
            shown = ", ".join(found.skipped[:5]) + (", …" if len(found.skipped) > 5 else "")
            one = len(found.skipped) == 1
            what = (
                "1 file that isn't a photo"
                if one
                else f"{len(found.skipped)} files that aren't photos"
            )
            self._print(f"(Left out {what}: {shown}.)")
        return Files(self.who, tuple(found.files))


class TerminalOutbox:
    """Where the core's own messages (progress, finished orders) go: the same screen."""

    def __init__(self, terminal: Terminal):
        self.terminal = terminal

    async def send(self, to: Recipient, reply: Reply) -> None:
        self.terminal.render([reply], prefix="» ", background=True)


class TerminalChat:
    """The terminal adapter (bot/adapter.py's signature): one person, this screen."""

    name = "terminal chat"

    def __init__(
        self, out_dir: Path, stdin: TextIO | None = None, stdout: TextIO | None = None
    ) -> None:
        self.out_dir = out_dir
        self.stdin = stdin
        self.stdout = stdout

    async def run(self, services: Services) -> None:
        """The conversation, until end of input or /quit (or cancelled: Ctrl-C)."""
        settings, studio = services.settings, services.studio
        out = self.stdout if self.stdout is not None else sys.stdout
        user = getpass.getuser() or "you"
        terminal = Terminal(
            self.out_dir,
            Who(PLATFORM, user, f"terminal:{user}", user),
            stream=out,
            max_bytes=settings.max_upload_bytes,
            max_files=settings.max_files_per_message,
        )
        reader = LineReader(self.stdin if self.stdin is not None else sys.stdin)
        studio.add_outbox(PLATFORM, TerminalOutbox(terminal))
        terminal.prune(studio.store.media.root)
        studio.store.media.on_delete.append(terminal.forget_copy)
        say = terminal._print
        say(f"Sitter in the terminal. Portraits go to {self.out_dir}. /help, or /quit to leave.")
        say("Send photos by typing their paths (or a folder); press a button by its number.")
        try:
            terminal.render(await studio.handle(Command(terminal.who, "start")))
            while True:
                print("> ", end="", file=out, flush=True)
                terminal.at_prompt = True
                line = await reader.readline()
                terminal.at_prompt = False
                if not line or line.strip().lower() in QUIT:
                    break
                event = terminal.parse(line)
                if event is None:
                    continue
                if isinstance(event, str):
                    say(event)
                    continue
                terminal.render(await studio.handle(event))
                if isinstance(event, Command) and event.name == "help":
                    say("")
                    say(TERMINAL_HELP)
                terminal.tell_removed()
        finally:
            if terminal.at_prompt:  # stopped (Ctrl-C) while waiting for a line
                say("")
            terminal.at_prompt = False
            studio.store.media.on_delete.remove(terminal.forget_copy)
            say(
                "Bye. Your session is saved; `./dev run` (or `sitter chat`) continues where "
                "you left off."
            )
            out.flush()
