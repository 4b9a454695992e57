"""Button data: short strings the core writes and reads (at most 64 bytes).

Two families, each carrying what survives a restart:

- wizard buttons ``w:<rev>:<action>[:<arg>]`` carry the session's ``rev``; a press
  whose rev is not the session's current one is stale (an old message, or the
  same button pressed twice).
- result buttons carry database ids and are checked against their owner:
  ``r:<order>`` retry, ``q:<order>`` cancel a queued order, ``u:<variation>``
  upscale, ``l:<variation>`` label, ``f:<rev>`` confirm /forget.
- ``rep:<variation>`` and ``mod:...`` belong to moderation (no owner check here).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 64


@dataclass(frozen=True)
class WizardPress:
    rev: int
    action: str  # agree, decline, done, more, style, preset, back, cancel, go, new, own
    arg: str = ""


@dataclass(frozen=True)
class ItemPress:
    kind: str  # r, q, u, l, f
    id: int


@dataclass(frozen=True)
class ModerationPress:
    data: str


Parsed = WizardPress | ItemPress | ModerationPress

ITEM_KINDS = frozenset("rqulf")


def wizard(rev: int, action: str, arg: str = "") -> str:
    return _checked(f"w:{rev}:{action}" + (f":{arg}" if arg else ""))


def item(kind: str, id_: int) -> str:
    if kind not in ITEM_KINDS:
        raise ValueError(f"unknown button kind {kind!r}")
    return _checked(f"{kind}:{int(id_)}")


def report(variation_id: int) -> str:
    return _checked(f"rep:{int(variation_id)}")


def parse(data: str) -> Parsed | None:
    """Read button data; None when it is not something the core ever wrote."""
    if len(data.encode()) > MAX_BYTES:
        return None
    if data.startswith(("rep:", "mod:")):
        return ModerationPress(data)
    parts = data.split(":")
    try:
        if parts[0] == "w" and len(parts) in (3, 4) and parts[2]:
            return WizardPress(int(parts[1]), parts[2], parts[3] if len(parts) == 4 else "")
        if parts[0] in ITEM_KINDS and len(parts) == 2:
            return ItemPress(parts[0], int(parts[1]))
    except ValueError:
        return None
    return None


def _checked(data: str) -> str:
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"button data over {MAX_BYTES} bytes: {data!r}")
    return data
