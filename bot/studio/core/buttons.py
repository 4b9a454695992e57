"""Button data: every family the studio writes, built and read here (at most 64 bytes).

Each family carries what survives a restart:

- wizard buttons ``w:<rev>:<action>[:<arg>]`` carry the session's ``rev``; a press
  whose rev is not the session's current one is stale (an old message, or the
  same button pressed twice).
- result buttons carry database ids and are checked against their owner:
  ``r:<order>`` retry, ``q:<order>`` cancel a queued order, ``u:<variation>``
  upscale, ``l:<variation>`` label, ``f:<rev>`` confirm /forget, ``a:<variation>``
  avatar, ``m:<variation>`` the portrait's More menu.
- portrait buttons ``p:<variation>:<action>[:<arg>]`` (owner-checked): ``vary`` with
  ``subtle``/``strong``; ``light`` (the lighting menu), with a preset's number in
  prompts/wizard.toml's lighting step or ``own`` (typed next).
- history's buttons (/portraits; checked against the owner where they are read):
  ``h:<order>`` show that order's results again, ``hp:<order>`` the page of orders
  older than that one.
- moderation's buttons (no owner check here; moderation checks who may press)::

    rep:<variation>               report this portrait: show the reasons
    rep:<variation>:<reason>      report it for this reason
    rep:n:<report>                add details to my report (typed next)
    mod:<report>:<action>         a moderator's decision (dis rm pur pro ban), or
                                  unban / show

Every number is read as ASCII digits in SQLite's range (a signed 64-bit integer;
ids above 0): data outside it is not a button the studio wrote, so it is answered
as a stale button and never reaches a query (where it would raise OverflowError).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 64
MAX_ID = 2**63 - 1  # SQLite's INTEGER
MODERATION_PREFIXES = ("rep:", "mod:")
DECISIONS = frozenset({"dis", "rm", "pur", "pro", "ban"})
MODERATOR_ACTIONS = DECISIONS | {"unban", "show"}


@dataclass(frozen=True)
class WizardPress:
    rev: int
    action: str  # agree, decline, done, more, style, preset, back, cancel, go, new, own,
    # remove (a photo of the /photos sheet, by id), newset
    arg: str = ""


@dataclass(frozen=True)
class ItemPress:
    kind: str  # r, q, u, l, f
    id: int


@dataclass(frozen=True)
class ReportPress:
    """``rep:<variation>[:<reason>]``: report a portrait (reason empty: ask for one)."""

    variation: int
    reason: str = ""


@dataclass(frozen=True)
class NotePress:
    """``rep:n:<report>``: the reporter adds typed details to their report."""

    report: int


@dataclass(frozen=True)
class ModeratorPress:
    """``mod:<report>:<action>``: a decision, ``unban`` or ``show``."""

    report: int
    action: str


MorePress = ReportPress | NotePress | ModeratorPress


@dataclass(frozen=True)
class ModerationPress:
    """Any ``rep:``/``mod:`` data: moderation's, read by :meth:`read` (None: stale)."""

    data: str

    def read(self) -> MorePress | None:
        return _moderation(self.data)


@dataclass(frozen=True)
class HistoryPress:
    """``h:<order>`` resend an order's results; ``hp:<order>`` the page older than it."""

    kind: str  # h, hp
    id: int


HISTORY_KINDS = frozenset({"h", "hp"})


@dataclass(frozen=True)
class PortraitPress:
    """``p:<variation>:<action>[:<arg>]``: vary or relight one portrait."""

    variation: int
    action: str  # vary, light
    arg: str = ""


Parsed = WizardPress | ItemPress | ModerationPress | HistoryPress | PortraitPress

ITEM_KINDS = frozenset("rqulfam")
PORTRAIT_ACTIONS = frozenset({"vary", "light"})


# --- building -------------------------------------------------------------------------------
def wizard(rev: int, action: str, arg: str = "") -> str:
    return _checked(f"w:{_number(rev, 0)}:{action}" + (f":{arg}" if arg else ""))


def item(kind: str, id_: int) -> str:
    if kind not in ITEM_KINDS:
        raise ValueError(f"unknown button kind {kind!r}")
    return _checked(f"{kind}:{_number(id_, 0 if kind == 'f' else 1)}")


def history(kind: str, order_id: int) -> str:
    if kind not in HISTORY_KINDS:
        raise ValueError(f"unknown history button {kind!r}")
    return _checked(f"{kind}:{_number(order_id)}")


def portrait(variation_id: int, action: str, arg: str = "") -> str:
    if action not in PORTRAIT_ACTIONS:
        raise ValueError(f"unknown portrait action {action!r}")
    return _checked(f"p:{_number(variation_id)}:{action}" + (f":{arg}" if arg else ""))


def report(variation_id: int, reason: str = "") -> str:
    return _checked(f"rep:{_number(variation_id)}" + (f":{reason}" if reason else ""))


def report_note(report_id: int) -> str:
    return _checked(f"rep:n:{_number(report_id)}")


def moderator(report_id: int, action: str) -> str:
    if action not in MODERATOR_ACTIONS:
        raise ValueError(f"unknown moderator action {action!r}")
    return _checked(f"mod:{_number(report_id)}:{action}")


# --- reading ---------------------------------------------------------------------------------
def parse(data: str) -> Parsed | None:
    """Read button data; None when it is not something the core ever wrote."""
    if len(data.encode()) > MAX_BYTES:
        return None
    if data.startswith(MODERATION_PREFIXES):
        return ModerationPress(data)
    parts = data.split(":")
    if parts[0] == "w" and len(parts) in (3, 4) and parts[2]:
        rev = read_id(parts[1], 0)
        if rev is None:
            return None
        return WizardPress(rev, parts[2], parts[3] if len(parts) == 4 else "")
    if parts[0] in HISTORY_KINDS and len(parts) == 2:
        hid = read_id(parts[1])
        return None if hid is None else HistoryPress(parts[0], hid)
    if parts[0] == "p" and len(parts) in (3, 4) and parts[2] in PORTRAIT_ACTIONS:
        vid = read_id(parts[1])
        arg = parts[3] if len(parts) == 4 else ""
        if vid is None or (len(parts) == 4 and not arg):
            return None
        return PortraitPress(vid, parts[2], arg)
    if parts[0] in ITEM_KINDS and len(parts) == 2:
        id_ = read_id(parts[1], 0 if parts[0] == "f" else 1)
        return None if id_ is None else ItemPress(parts[0], id_)
    return None


def is_report(data: str) -> bool:
    """A portrait's own Report button (``rep:<variation>``), as adapters find on messages."""
    p = _moderation(data) if len(data.encode()) <= MAX_BYTES else None
    return isinstance(p, ReportPress) and not p.reason


def is_forget(data: str) -> bool:
    """The /forget confirmation (``f:<rev>``): it works even for a suspended account."""
    p = parse(data)
    return isinstance(p, ItemPress) and p.kind == "f"


def read_id(text: str, least: int = 1) -> int | None:
    """ASCII digits in ``least..MAX_ID``, else None (``int()`` also takes "+1", "١", "1_0")."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    n = int(text)
    return n if least <= n <= MAX_ID else None


def _moderation(data: str) -> MorePress | None:
    parts = data.split(":")
    if parts[0] == "rep":
        if len(parts) == 3 and parts[1] == "n":
            rid = read_id(parts[2])
            return None if rid is None else NotePress(rid)
        if len(parts) in (2, 3):
            vid = read_id(parts[1])
            reason = parts[2] if len(parts) == 3 else ""
            if vid is None or (len(parts) == 3 and not reason):
                return None
            return ReportPress(vid, reason)
    if parts[0] == "mod" and len(parts) == 3 and parts[2] in MODERATOR_ACTIONS:
        rid = read_id(parts[1])
        return None if rid is None else ModeratorPress(rid, parts[2])
    return None


def _number(n: int, least: int = 1) -> int:
    n = int(n)
    if not least <= n <= MAX_ID:
        raise ValueError(f"id {n} outside {least}..{MAX_ID}")
    return n


def _checked(data: str) -> str:
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"button data over {MAX_BYTES} bytes: {data!r}")
    return data
