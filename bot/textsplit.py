"""Long texts cut into message-sized parts, for any chat platform's limit."""

from __future__ import annotations


def chunk_lines(text: str, limit: int) -> list[str]:
    """Split at line breaks, or hard inside a line longer than ``limit``.

    Parts keep their line endings; the caller decides how to show empty ones.
    """
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            parts.append(current)
            current = ""
        current += line
    parts.append(current)
    return parts
