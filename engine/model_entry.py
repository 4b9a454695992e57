"""One row of ``sitter models``: a model file set, its licence, where it is, how to fetch it.

A leaf module: engine/models.py lists the rows, the model families (engine/families/)
describe their identity path with them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Entry:
    role: str
    name: str
    licence: str
    commercial: bool | None  # None: unknown, read the model card
    location: str
    present: bool
    required: bool = True
    detail: str = ""
    fetch: Callable[[], str] | None = field(default=None, repr=False)
    verify: Callable[[], str] | None = field(default=None, repr=False)
