"""The ``sitter`` command. Each subcommand lives in the module that does the work;
this file only parses arguments and imports lazily: the bot's image has no engine
package (docker/Dockerfile.bot), and the bot never loads torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

from sitter.config import TRY_OFFLINE, ConfigError, Settings, load_settings

# subcommand -> "module:function"; the function takes (args, settings) and returns an exit code
COMMANDS: dict[str, str] = {
    "run": "cli.start:cmd_run",
    "bot": "bot.app:cmd_bot",
    "chat": "cli.start:cmd_chat",
    "worker": "engine.worker:cmd_worker",
    "db": "bot.store.cli:cmd_db",
    "doctor": "cli.doctor:cmd_doctor",
    "generate": "cli.generate:cmd_generate",
    "train": "cli.train:cmd_train",
    "photos": "engine.cli_photos:cmd_photos",
    "models": "engine.cli_models:cmd_models",
    "audit": "cli.audit:cmd_audit",
    "verify": "engine.cli_verify:cmd_verify",
    "avatar": "engine.cli_avatar:cmd_avatar",
}
# The packages an install may leave out (the bot's image has no engine; the engine's no bot).
HALVES = {"engine": "the engine (GPU worker)", "bot": "the chat bot"}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sitter", description="Sitter, a portrait studio in chat.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run everything: Redis if needed, a worker and the bot(s)")
    run.add_argument("--no-worker", action="store_true", help="do not start a local worker")
    bot = sub.add_parser("bot", help="run the chat bot(s) only (workers run elsewhere)")
    bot.add_argument(
        "--sync",
        action="store_true",
        help="upload the chat platforms' slash commands now (otherwise only when they changed)",
    )
    chat = sub.add_parser("chat", help="the studio in this terminal, no chat token needed")
    chat.add_argument("--out", default=None, help="folder for results (default: DATA_DIR/out)")
    chat.add_argument("--no-worker", action="store_true", help="use workers started elsewhere")

    worker = sub.add_parser("worker", help="run an engine worker (GPU)")
    worker.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    worker.add_argument(
        "--queues",
        default=None,
        help="which queues to serve: fast, gpu, train or a list (default: fast,gpu,train; "
        "SITTER_TRAIN_MODE=dedicated: fast,gpu, trainers run with --queues train)",
    )

    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade", "version"])

    sub.add_parser("doctor", help="check configuration, Redis, database, models and GPU")

    gen = sub.add_parser("generate", help="make portraits from a folder of photos, no bot")
    whose = gen.add_mutually_exclusive_group(required=True)
    whose.add_argument("--photos", help="folder with photos of one person")
    whose.add_argument("--pet-photos", help="folder with photos of one pet (with --pet)")
    gen.add_argument(
        "--pet", choices=["cat", "dog"], default=None, help="the pet's species (--pet-photos)"
    )
    what = gen.add_mutually_exclusive_group(required=True)
    what.add_argument("--style", help=_style_help())
    what.add_argument(
        "--pack",
        help="a content pack of prompts/packs/ by name or key (creator, linkedin, avatar): "
        "every look into OUT/<look>/, plus contact-sheet.jpg and summary.json",
    )
    gen.add_argument("--out", required=True, help="output folder")
    gen.add_argument(
        "--attire", default="", help="what you wear, in words (e.g. 'a navy wool coat')"
    )
    gen.add_argument(
        "--setting", default="", help="the background (e.g. 'an old wood-panelled library')"
    )
    gen.add_argument("--lighting", default="", help="the light (e.g. 'soft window light')")
    gen.add_argument(
        "--composition", default="", help="how close (e.g. 'a head-and-shoulders portrait')"
    )
    gen.add_argument(
        "--subject",
        default="",
        help="how to describe the person, as the chat's optional step (e.g. 'a woman in "
        "her 40s with curly red hair'); default: the photos say who it is",
    )
    gen.add_argument(
        "--seed", type=int, default=None, help="the first of the four seeds (default: random)"
    )
    gen.add_argument(
        "--partner-photos",
        default=None,
        help="folder with photos of a second person: portraits of the two together "
        "(the first folder's person on the left)",
    )
    gen.add_argument(
        "--placement",
        default=None,
        help="with --partner-photos, how the two stand: side_by_side (default), "
        "shoulder_to_shoulder, facing or back_to_back",
    )
    gen.add_argument(
        "--aspect",
        default=None,
        help="format: 1:1 (square), 4:5 (portrait), 9:16 (story) or 16:9 (landscape); "
        "rendered at the model's own size for it (default: the style's size)",
    )

    gen.add_argument(
        "--personal",
        default=None,
        metavar="FILE",
        help="a personal model made by `sitter train` (or the bot): used for these portraits",
    )

    train = sub.add_parser(
        "train", help="learn a personal model (a LoRA) from a folder of one person's photos"
    )
    train.add_argument("--photos", required=True, help="folder with photos of one person")
    train.add_argument("--out", required=True, help="the file to write (.safetensors)")
    train.add_argument(
        "--steps", type=int, default=None, help="training steps (default: the model's, 1000)"
    )
    train.add_argument("--rank", type=int, default=16, help="the LoRA's rank (default: 16)")
    train.add_argument("--seed", type=int, default=0, help="seed (default: 0)")

    avatar = sub.add_parser(
        "avatar", help="round avatars (512 and 1024 px) of a portrait, centred on the face"
    )
    avatar.add_argument("file", help="a portrait made by sitter generate or the bot")
    avatar.add_argument("--out", required=True, help="output folder")
    avatar.add_argument("--no-badge", action="store_true", help="no visible 'Made with AI'")

    photos = sub.add_parser(
        "photos",
        help="check reference photos (each on its own; --as-set: as one person's set)",
        description="Check reference photos. By default each file is checked on its own, "
        "so photos of different people are fine; --as-set checks them as one person's "
        "set, as the bot does: the person in most of the photos is kept, whatever the "
        "order (without a majority, the person of the first files), anyone else is named, "
        "and fewer usable photos than the studio's minimum are pointed out.",
    )
    photos.add_argument("action", choices=["check"])
    photos.add_argument("files", nargs="+")
    photos.add_argument(
        "--as-set",
        action="store_true",
        help="check the files as one person's set (default: each file independently)",
    )
    photos.add_argument("--json", action="store_true", help="one JSON object per file")
    photos.add_argument(
        "--pet",
        choices=["cat", "dog"],
        default=None,
        help="check the files as a pet's photos (exactly one cat or dog, no person)",
    )

    models = sub.add_parser("models", help="download and verify the configured models")
    models.add_argument("action", choices=["fetch", "verify", "list"], nargs="?", default="list")

    verify = sub.add_parser("verify", help="read back the AI labels (XMP, note, C2PA) of images")
    verify.add_argument("files", nargs="+")
    verify.add_argument("--json", action="store_true", help="one JSON object per file")
    verify.add_argument("--trust", default=None, help="PEM file of extra trusted root CAs")
    verify.add_argument(
        "--no-dev-anchor", action="store_true", help="do not trust this machine's development CA"
    )

    audit = sub.add_parser("audit", help="export the moderation audit log")
    audit.add_argument("--since", default=None, help="ISO date or datetime, e.g. 2026-11-01")
    audit.add_argument("--format", choices=["csv", "json"], default="csv")
    audit.add_argument("--output", default="-", help="file to write (default: stdout)")
    return p


def _style_help() -> str:
    # cli.generate imports nothing of the engine at module level: `sitter --help` works
    # in the bot's image too.
    from cli.generate import style_help

    return style_help()


def _resolve(command: str) -> Callable[[argparse.Namespace, Settings], int]:
    module, func = COMMANDS[command].split(":")
    found: Callable[[argparse.Namespace, Settings], int] = getattr(
        importlib.import_module(module), func
    )
    return found


def _run(command: str, args: argparse.Namespace, settings: Settings) -> int:
    """The command's exit code; a half this install lacks is said plainly."""
    try:
        return int(_resolve(command)(args, settings) or 0)
    except ModuleNotFoundError as exc:
        half = HALVES.get((exc.name or "").split(".")[0])
        if half is None:
            raise
        raise ConfigError(
            f"`sitter {command}` needs {half}, which is not installed here "
            f"(this install or image has no {exc.name!r} package)."
        ) from None


def _hide_chat_tokens() -> None:
    """The chat platforms' tokens and their shapes out of every log line (their adapters
    give them: bot/platforms.py); an install without the bot has none."""
    try:
        from bot.platforms import install_redaction
    except ModuleNotFoundError:
        return
    install_redaction()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from sitter.redact import install_for

    try:
        settings = load_settings()
        install_for(settings)  # every command's log lines, whatever handler shows them
        _hide_chat_tokens()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        return _run(args.command, args, settings)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        if "model cache" in str(exc) and args.command != "worker":  # (sitter run says it)
            print(f"To try Sitter without downloads: {TRY_OFFLINE}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception:
        # Python would print the traceback itself, secrets in messages included (PTB
        # puts the token in InvalidToken's): the same traceback, redacted.
        import traceback

        from sitter.redact import scrub

        print(scrub(traceback.format_exc()), file=sys.stderr, end="")
        return 1


if __name__ == "__main__":
    sys.exit(main())
