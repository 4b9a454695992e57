"""``sitter models list|fetch|verify``: the configured parts, their licences and cache."""

from __future__ import annotations

import argparse
import sys

from engine.hub_files import FetchError
from engine.models import Entry, entries
from sitter.config import Settings


def _commercial(e: Entry) -> str:
    return {True: "yes", False: "NO", None: "unclear (treated as no)"}[e.commercial]


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    action = args.action or "list"
    items = entries(settings)
    if action == "list":
        print(f"models cache: {settings.models_dir}")
        for e in items:
            state = "present" if e.present else ("MISSING" if e.required else "absent")
            print(f"\n{e.role}: {e.name}")
            print(f"  licence: {e.licence} (commercial use: {_commercial(e)})")
            print(f"  where:   {e.location}  [{state}]")
            if e.detail:
                print(f"  note:    {e.detail}")
        from engine.licences import verdict

        v = verdict(settings)
        print(f"\nlicence (SITTER_LICENCE={settings.licence}): {v.summary()}")
        if not v.allowed:
            print(v.refusal())
        return 0
    failed = 0
    for e in items:
        if action == "fetch":
            if e.present or e.fetch is None:
                print(f"{e.role}: {'present' if e.present else 'nothing to fetch'} ({e.name})")
                continue
            print(f"{e.role}: fetching {e.name} ...")
            try:
                print(f"  -> {e.fetch()}")
            except FetchError as exc:
                print(f"  {exc}", file=sys.stderr)
                failed += e.required
        else:  # verify
            try:
                summary = e.verify() if e.verify else "nothing to verify"
                print(f"{e.role}: ok ({e.name}): {summary}")
            except Exception as exc:
                mark = "FAILED" if e.required else "absent (optional)"
                print(f"{e.role}: {mark} ({e.name}): {exc}", file=sys.stderr)
                failed += e.required
    return 1 if failed else 0
