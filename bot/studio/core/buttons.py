"""The one button grammar: every family of button data, at most 64 bytes, parsed once.

The grammar knows families only by their prefix: each feature folder owns its
family's typed press (a frozen dataclass), how it is built and read, in a codec module
(``<feature>/buttons.py``: its ``CODECS``, no handlers), the way aiogram's
``CallbackData(prefix=...)`` classes work. The grammar loads every one of those
modules (:data:`FEATURE_CODECS`) itself the first time it reads or builds, so a
button works whatever was imported before (a job building a retry button in a
process that never imported ``bot.studio.orders``). Parsing splits on ``:``, finds the
codec of the first part, and lets it read the rest; the core routes the typed press
it gets back (``Studio`` reads each press once).

Each family carries what survives a restart:

- wizard buttons ``w:<rev>:<action>[:<arg>]`` (the table's own, here) carry the
  session's ``rev``; a press whose rev is not the session's current one is stale (an
  old message, or the same button pressed twice).
- one-id families, ``<kind>:<id>`` (:class:`IdPress`; each checked against its owner
  where it is read): ``r``/``q`` retry / cancel an order (bot/studio/orders/),
  ``u``/``l``/``a`` upscale / label / avatar and ``m`` the More menu of a portrait
  (bot/studio/portrait/), ``f:<rev>`` confirm /forget (bot/studio/rights/), ``h`` /
  ``hp`` a kept order's results / the page older than it (bot/studio/history/),
  ``pmo``/``pmy``/``pmn``/``pmc``/``pm1``/``pm0`` a personal model's offer, consent,
  stop and switch (bot/studio/personal/), ``pt`` collect photos into that set (a pet's
  or the person's own: bot/studio/pets/), ``lg`` a language of /language (bot/studio/language/).
- portrait buttons ``p:<variation>:<action>[:<arg>]`` (bot/studio/portrait/buttons.py).
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

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

MAX_BYTES = 64
MAX_ID = 2**63 - 1  # SQLite's INTEGER
MODERATION_PREFIXES = ("rep:", "mod:")
DECISIONS = frozenset({"dis", "rm", "pur", "pro", "ban"})
MODERATOR_ACTIONS = DECISIONS | {"unban", "show"}
#: The features' codec modules (each a ``CODECS`` tuple, and nothing that handles a press).
FEATURE_CODECS = (
    "bot.studio.orders.buttons",
    "bot.studio.portrait.buttons",
    "bot.studio.history.buttons",
    "bot.studio.rights.buttons",
    "bot.studio.personal.buttons",
    "bot.studio.language.buttons",
    "bot.studio.together.buttons",
    "bot.studio.pets.buttons",
)


class Pressed:
    """What every typed press says about itself to the core (class attributes)."""

    #: Works for a suspended account and without consent (/forget's confirmation).
    always: ClassVar[bool] = False
    #: Starts work on the person's photos: only with consent to the current text.
    needs_consent: ClassVar[bool] = True


@dataclass(frozen=True)
class WizardPress(Pressed):
    """``w:<rev>:<action>[:<arg>]``: a button of the conversation's table."""

    needs_consent: ClassVar[bool] = False  # the consent screen's own buttons are these

    rev: int
    action: str  # agree, decline, done, more, style, preset, back, cancel, go, new, own,
    # remove (a photo of the /photos sheet, by id), newset
    arg: str = ""


@dataclass(frozen=True)
class IdPress(Pressed):
    """``<kind>:<id>``: a one-id family; a feature subclasses it with its own kinds."""

    kinds: ClassVar[frozenset[str]] = frozenset()
    least: ClassVar[int] = 1  # the smallest id (0 where it is a revision)

    kind: str
    id: int

    @property
    def data(self) -> str:
        if self.kind not in self.kinds:
            raise ValueError(f"unknown button kind {self.kind!r}")
        return checked(f"{self.kind}:{number(self.id, self.least)}")

    @classmethod
    def read(cls, parts: list[str]) -> IdPress | None:
        if len(parts) != 2 or parts[0] not in cls.kinds:
            return None
        id_ = read_id(parts[1], cls.least)
        return None if id_ is None else cls(parts[0], id_)


@dataclass(frozen=True)
class ModerationPress(Pressed):
    """Any ``rep:``/``mod:`` press, read once by the grammar: the moderation plugin's
    (the core hands it over as read; moderation checks who may press)."""


@dataclass(frozen=True)
class ReportPress(ModerationPress):
    """``rep:<variation>[:<reason>]``: report a portrait (reason empty: ask for one)."""

    variation: int
    reason: str = ""


@dataclass(frozen=True)
class NotePress(ModerationPress):
    """``rep:n:<report>``: the reporter adds typed details to their report."""

    report: int


@dataclass(frozen=True)
class ModeratorPress(ModerationPress):
    """``mod:<report>:<action>``: a decision, ``unban`` or ``show``."""

    report: int
    action: str


@dataclass(frozen=True)
class UnreadModerationPress(ModerationPress):
    """Data under ``rep:``/``mod:`` that no build wrote (an old or forged button): still
    the plugin's to answer (stale; "moderators only" under ``mod:``)."""

    prefix: str  # rep, mod


class Codec(Protocol):
    """A family's reader: the prefixes it owns and, from the split data, its press."""

    @property
    def prefixes(self) -> frozenset[str]: ...

    def read(self, parts: list[str]) -> Pressed | None: ...


@dataclass(frozen=True)
class IdCodec:
    """The codec of an :class:`IdPress` family (its kinds are its prefixes)."""

    press: type[IdPress]

    @property
    def prefixes(self) -> frozenset[str]:
        return self.press.kinds

    def read(self, parts: list[str]) -> Pressed | None:
        return self.press.read(parts)


class _WizardCodec:
    prefixes = frozenset({"w"})

    def read(self, parts: list[str]) -> Pressed | None:
        if len(parts) not in (3, 4) or not parts[2]:
            return None
        rev = read_id(parts[1], 0)
        if rev is None:
            return None
        return WizardPress(rev, parts[2], parts[3] if len(parts) == 4 else "")


class _ModerationCodec:
    """Reads ``rep:``/``mod:`` data into its typed press, once (the plugin is handed it)."""

    prefixes = frozenset({"rep", "mod"})

    def read(self, parts: list[str]) -> Pressed | None:
        if len(parts) < 2:
            return None
        # data no build wrote stays the plugin's: it answers that (UnreadModerationPress)
        return _moderation(parts) or UnreadModerationPress(parts[0])


class Grammar:
    """Every registered family, by prefix; a prefix belongs to one codec only."""

    def __init__(self, modules: Sequence[str] = ()) -> None:
        self._codecs: dict[str, Codec] = {}
        self._ids: dict[str, type[IdPress]] = {}
        self._modules = tuple(modules)  # codec modules, loaded on first use
        self._loaded = not self._modules

    def _load(self) -> None:
        """Register every feature's codecs, once (the modules import only this one)."""
        if self._loaded:
            return
        for name in self._modules:  # registering the same codec again changes nothing
            self.register(*importlib.import_module(name).CODECS)
        self._loaded = True

    def register(self, *codecs: Codec) -> None:
        for codec in codecs:
            for prefix in codec.prefixes:
                known = self._codecs.get(prefix)
                if known is not None and known != codec:
                    raise ValueError(f"button prefix {prefix!r} is registered twice")
                self._codecs[prefix] = codec
                if isinstance(codec, IdCodec):
                    self._ids[prefix] = codec.press

    def parse(self, data: str) -> Pressed | None:
        """Read button data; None when it is not something the studio ever wrote."""
        if len(data.encode()) > MAX_BYTES:
            return None
        self._load()
        parts = data.split(":")
        codec = self._codecs.get(parts[0])
        return None if codec is None else codec.read(parts)

    def item(self, kind: str, id_: int) -> str:
        self._load()
        press = self._ids.get(kind)
        if press is None:
            raise ValueError(f"unknown button kind {kind!r}")
        return press(kind, id_).data


GRAMMAR = Grammar(FEATURE_CODECS)
GRAMMAR.register(_WizardCodec(), _ModerationCodec())


# --- building -------------------------------------------------------------------------------
def wizard(rev: int, action: str, arg: str = "") -> str:
    return checked(f"w:{number(rev, 0)}:{action}" + (f":{arg}" if arg else ""))


def item(kind: str, id_: int) -> str:
    """A one-id family's button (``r:7``, ``u:12``...), by the kind a feature registered."""
    return GRAMMAR.item(kind, id_)


def report(variation_id: int, reason: str = "") -> str:
    return checked(f"rep:{number(variation_id)}" + (f":{reason}" if reason else ""))


def report_note(report_id: int) -> str:
    return checked(f"rep:n:{number(report_id)}")


def moderator(report_id: int, action: str) -> str:
    if action not in MODERATOR_ACTIONS:
        raise ValueError(f"unknown moderator action {action!r}")
    return checked(f"mod:{number(report_id)}:{action}")


# --- reading ---------------------------------------------------------------------------------
def parse(data: str) -> Pressed | None:
    """Read button data; None when it is not something the studio ever wrote."""
    return GRAMMAR.parse(data)


def is_report(data: str) -> bool:
    """A portrait's own Report button (``rep:<variation>``), as adapters find on messages."""
    p = _moderation(data.split(":")) if len(data.encode()) <= MAX_BYTES else None
    return isinstance(p, ReportPress) and not p.reason


def read_id(text: str, least: int = 1) -> int | None:
    """ASCII digits in ``least..MAX_ID``, else None (``int()`` also takes "+1", "١", "1_0")."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    n = int(text)
    return n if least <= n <= MAX_ID else None


def _moderation(parts: list[str]) -> ModerationPress | None:
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


def number(n: int, least: int = 1) -> int:
    n = int(n)
    if not least <= n <= MAX_ID:
        raise ValueError(f"id {n} outside {least}..{MAX_ID}")
    return n


def checked(data: str) -> str:
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"button data over {MAX_BYTES} bytes: {data!r}")
    return data
