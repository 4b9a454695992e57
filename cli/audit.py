"""``sitter audit``: export the moderation audit log (moderation actions and data
deletions: who, when, what, why) as CSV or JSON."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.store.moderation_store import ModerationStore
from bot.store.store import Store
from sitter.config import Settings

FIELDS = ("id", "created_at", "actor", "action", "target_user_id", "report_id", "reason", "detail")


class AuditError(ValueError):
    """Bad arguments, worded for the person at the terminal."""


def parse_since(text: str | None) -> str | None:
    """An ISO date or datetime (UTC unless it says otherwise) -> the log's time format."""
    if text is None or not text.strip():
        return None
    raw = text.strip()
    try:
        t = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise AuditError(
            f"--since {raw!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM, e.g. 2026-11-01"
        ) from None
    t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def render(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        out = [{**r, "detail": json.loads(r["detail"] or "{}")} for r in rows]
        return json.dumps(out, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: "" if r[k] is None else r[k] for k in FIELDS})
        return buf.getvalue()
    raise AuditError(f"unknown format {fmt!r}; use csv or json")


async def export(settings: Settings, since: str | None, fmt: str) -> tuple[str, int]:
    if not settings.db_path.exists():
        raise AuditError(f"no database at {settings.db_path} (SITTER_DATA_DIR={settings.data_dir})")
    store = await Store.open(settings.db_path, settings.media_dir)
    try:
        rows = await ModerationStore(store).audit(since)
    finally:
        await store.close()
    return render(rows, fmt), len(rows)


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    try:
        since = parse_since(args.since)
        text, n = asyncio.run(export(settings, since, args.format))
    except AuditError as exc:
        print(f"sitter audit: {exc}", file=sys.stderr)
        return 2
    output = args.output or "-"
    if output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
        print(f"{n} audit entries written to {output}", file=sys.stderr)
    return 0
