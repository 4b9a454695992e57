"""``sitter run`` and ``sitter chat``: the bot's start-up (bot/app.py) with an engine
worker beside it, refused here first when the worker would refuse its configuration.

The worker would refuse at its own start (exit 2) and only its log would say why: the
licence check runs here, in the person's terminal, before anything starts. It is the
application layer's job because it asks the engine about a start the bot makes.
"""

from __future__ import annotations

import argparse

from sitter.config import Settings


def refuse_before_a_worker(settings: Settings) -> None:
    """Raise ConfigError (the licence's own words) when a worker would not start."""
    from engine.licences import enforce

    enforce(settings)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """``sitter run [--no-worker]``."""
    from bot.app import cmd_run

    if not args.no_worker:
        refuse_before_a_worker(settings)
    return cmd_run(args, settings)


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """``sitter chat [--out DIR] [--no-worker]``."""
    from bot.app import cmd_chat

    if not args.no_worker:
        refuse_before_a_worker(settings)
    return cmd_chat(args, settings)
