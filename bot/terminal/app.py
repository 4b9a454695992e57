"""``sitter chat``: the studio in this terminal, no chat token needed.

The same core as on Telegram and Discord. Type a command (``/help``), text, or
the path of one or more photos (or a folder of them); buttons are shown as
numbered choices, so type the number to press one. Portraits are copied to an
output folder and their paths printed; a copy goes when its portrait does
(/forget, a moderator's removal, the retention period). Everything lives in the same database
as the bots, so quitting (Ctrl-D, /quit) and starting again continues where
you were; an order that finishes meanwhile is shown when you come back.

A plain number presses a button of the latest answer (numbered from 1 each time). A
message that arrives on its own (results, progress) tags its buttons with its own letter
(``a1``, ``a2``, then ``b1`` ...), so it never takes or shifts a number on screen and a
small number typed at a new step can't press a portrait's button far up the scrollback.
Only the last ``LIVE_MESSAGES`` such messages keep their buttons.
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
from sitter.config import Settings
from sitter.i18n import env_known, env_locale
from sitter.visible import visible


def continue_command(settings: Settings) -> str:
    """The command that opens the terminal studio again with these models (a bare
    `sitter chat` uses the real model, which a newcomer has not downloaded)."""
    chat = ".venv/bin/sitter chat"
    if settings.is_tiny:  # with ./dev run's models: OFFLINE_ENV's words
        return f"SITTER_MODEL={settings.model} SITTER_FACE_BACKEND={settings.face_backend} {chat}"
    return chat


PLATFORM = "terminal"
QUIT = {"/quit", "/exit", "/q"}
COMMAND = re.compile(r"/[A-Za-z][A-Za-z0-9_]*(@\S+)?(\s.*)?", re.DOTALL)
TAGGED = re.compile(r"([a-z]{1,3})(\d+)")  # "b2": button 2 of the message tagged b
LIVE_MESSAGES = 26  # messages that arrived on their own whose buttons still work
TERMINAL_HELP = (
    "In this terminal:\n"
    "a number – press the button shown with it; a letter and number (a2) – a button of a\n"
    "  message that arrived on its own (results, progress)\n"
    "paths of photos or folders – send them (quotes, ~, *.jpg and file:// work)\n"
    "/quit (or Ctrl-D) – leave; `./dev run` continues where you left off"
)


def spoken(numbers: list[int], tag: str = "") -> str:
    """[1, 2] -> "1 or 2"; 1..6 -> "1–6"; 1..6 and 13..20 -> "1–6 or 13–20" (with a
    message's letter: "b1–b4")."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts: list[str] = []
    for run in runs:
        parts += [f"{tag}{run[0]}–{tag}{run[-1]}"] if len(run) > 2 else [f"{tag}{n}" for n in run]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def tag_name(i: int) -> str:
    """0 -> "a", 25 -> "z", 26 -> "aa": the letters of the i-th message that arrived."""
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(ord("a") + r) + name
    return name


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
        # Buttons of messages that came on their own, by tag (oldest first): tag -> n -> ...
        self.arrived: dict[str, dict[int, tuple[str, str]]] = {}
        self.tags: dict[str, str] = {}  # a message's edit key -> its tag (an edit keeps it)
        self.expired: set[str] = set()  # tags whose buttons no longer work
        self._next_tag = 0
        self.expect_text = False  # a free-text button was pressed: the next line is the answer
        self.at_prompt = False  # "> " is on screen, waiting for a line
        self.removed_copies = 0
        self.sent: list[Path] = []  # files sent so far: a new one's name never repeats theirs
        self._free_text_pressed = False

    @property
    def choices(self) -> dict[int, tuple[str, str]]:
        """What a plain number presses: the latest answer's buttons."""
        return self.asked

    def _tag_for(self, reply: Reply) -> str:
        """The message's letter: an edit keeps the letter of the message it updates."""
        if reply.edit_key and reply.edit_key in self.tags:
            tag = self.tags[reply.edit_key]
            self.arrived.pop(tag, None)  # re-added below, newest
            return tag
        tag = tag_name(self._next_tag)
        self._next_tag += 1
        if reply.edit_key:
            self.tags[reply.edit_key] = tag
        return tag

    # --- output ----------------------------------------------------------------------
    def render(self, replies: list[Reply], prefix: str = "", background: bool = False) -> None:
        """Print replies. An answer's buttons replace the last answer's, numbered from 1; a
        message that arrived on its own tags its buttons with its letter (``[a1]``), so
        a number on screen never changes meaning and an old message's button is never
        pressed by a small number meant for the step below it."""
        if background and self.at_prompt:
            self._print("")  # off the "> " line
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
            if background and reply.edit_key in self.tags and not reply.buttons:
                self.arrived[self.tags[reply.edit_key]] = {}  # the update took them away
            if background and reply.buttons:
                tag = self._tag_for(reply)
                own: dict[int, tuple[str, str]] = {}
                for row in reply.buttons:
                    cells = []
                    for btn in row:
                        own[len(own) + 1] = (btn.data, btn.kind)
                        cells.append(f"[{tag}{len(own)}] {btn.label}")
                    self._print(f"{prefix}  " + "   ".join(cells))
                self.arrived[tag] = own
                while len(self.arrived) > LIVE_MESSAGES:
                    self.expired.add(next(iter(self.arrived)))
                    del self.arrived[next(iter(self.arrived))]
                continue
            for row in reply.buttons:
                cells = []
                for btn in row:
                    n = len(numbered) + 1
                    numbered[n] = (btn.data, btn.kind)
                    cells.append(f"[{n}] {btn.label}")
                self._print(f"{prefix}  " + "   ".join(cells))
        if not background:
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
        print(visible(line, keep="\t\n"), file=self.stream)

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
        tagged = TAGGED.fullmatch(line.lower())
        if tagged and (tagged[1] in self.arrived or tagged[1] in self.expired):
            return self._choose_tagged(tagged[1], int(tagged[2]))
        if command is not None:
            return command
        found = files.find(line, self.max_files, self.max_bytes, self.sent)
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
        last = next(reversed(self.arrived), "")
        if not choices and not self.expect_text and n in self.arrived.get(last, {}):
            return f"A message's buttons carry its letter: type {last}{n} for [{last}{n}]."
        if not choices or (takes_words and n > 2 * max(choices)):
            return Text(self.who, line)  # a step that takes words: "1984" is an answer
        return f"There is no choice {n} on screen; choose {spoken(list(choices))}."

    def _choose_tagged(self, tag: str, n: int) -> Event | str:
        own = self.arrived.get(tag)
        if own is None:
            return (
                f"The buttons of message {tag} are too far up to press now; /portraits "
                "shows your portraits again with their buttons."
            )
        if not own:
            return f"Message {tag} has no buttons now (it was updated below)."
        if n not in own:
            return f"Message {tag} has no button {tag}{n}; choose {spoken(list(own), tag)}."
        data, kind = own[n]
        self._free_text_pressed = kind == "free_text"
        return Press(self.who, data)

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
            Who(PLATFORM, user, f"terminal:{user}", user, locale=env_locale()),
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
        if code := env_known():  # the terminal follows LANG at every start (/language: now)
            row = await studio.store.ensure_user(PLATFORM, user, user, terminal.who.chat_id)
            await studio.store.set_locale(row["id"], code)
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
                f"Bye. Your session is saved; `./dev run` (or `{continue_command(settings)}`) "
                "continues where you left off."
            )
            out.flush()
