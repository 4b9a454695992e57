"""What every prompts/ file loader shares: the error that names the file, reading TOML."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


class PromptError(ValueError):
    """A prompts/ file is malformed; the message names the file."""


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PromptError(f"{path}: not valid TOML: {exc}") from None


def text_value(path: Path, data: dict[str, Any], key: str, required: bool = True) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise PromptError(f"{path}: {key!r} must be a non-empty string")
    return value.strip()
