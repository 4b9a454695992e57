"""The words under a result: a portrait's likeness, its face retouch, what the safety
check withheld. Re-exported by :mod:`bot.studio.core.words`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from bot.store.base import Row
from bot.store.rows import Portrait
from sitter.contract import FaceDetail
from sitter.i18n import _, ngettext


def _columns(v: Portrait | Row | Mapping[str, Any]) -> Mapping[str, Any]:
    """A portrait's columns by name (a Portrait, or a row of ``variations``)."""
    if isinstance(v, Portrait):
        return asdict(v)
    return v if isinstance(v, Mapping) else dict(v)


_REDONE: dict[str, str] = {"no_face": "no face", "not_alike": "not alike", "copy": "a copy"}
_REDONE["colour_drift"] = "its coat's colours drifted"  # a pet's portrait (issue 25)
_REDONE["one_face"] = "one person missing"  # a portrait of two (issue 24)
_REDONE["stranger"] = "a stranger's face"


def likeness_words(v: Portrait | Row | Mapping[str, Any], pet: str = "") -> str:
    """A portrait's likeness in plain words: its score, what it needed, and why earlier
    tries were made again (a variations row; rows from before the gate have no verdict).
    ``pet``: a pet's portrait, named by the pet's name."""
    row = _columns(v)
    score, bar, verdict = row.get("likeness"), row.get("threshold"), row.get("verdict")
    if verdict is None:  # made before the per-person gate
        if score is not None:
            return f"likeness {score:.2f}" + ("" if row.get("passed") else " (weaker)")
        return "" if row.get("face_found") else "no face found to compare"
    need = f", needed {bar:.2f}" if bar is not None else ""
    words = {
        "passed": f"likeness {score or 0:.2f}{need}: looks like {pet or 'you'}",
        "not_alike": f"likeness {score or 0:.2f}{need}: not alike enough",
        "copy": f"likeness {score or 0:.2f}: too close a copy of one of your photos",
        "no_face": "no animal found to compare" if pet else "no face found to compare",
        "colour_drift": "its coat's colours drifted from your photos (kept: the closest try)",
        "one_face": "only one of the two people could be found",
        "stranger": "a face that looks like neither of you",
        "unchecked": (
            f"likeness {score:.2f}, not checked for this style"
            if score is not None
            else "no face found; likeness not checked for this style"
        ),
    }.get(str(verdict), str(verdict))
    redone = [_REDONE.get(r, r) for r in str(row.get("regenerated") or "").split(",") if r]
    if redone:
        words = f"{len(redone) + 1} tries ({', '.join(redone)}) · {words}"
    return words


def withheld_line(n: int) -> str:
    """Said with the results when the safety check withheld variations (no details)."""
    if n == 1:
        return _("One portrait was withheld by the safety check.")
    return ngettext(
        "{n} portrait was withheld by the safety check.",
        "{n} portraits were withheld by the safety check.",
        n,
    ).format(n=n)


def detail_columns(detail: FaceDetail | None) -> tuple[str | None, float | None]:
    """A variation's face detail pass as its two store columns: why it ran, and the
    likeness it added when its version was kept (None when it was not)."""
    if detail is None:
        return None, None
    before, after = detail.likeness_before, detail.likeness_after
    kept = detail.kept and before is not None and after is not None
    return detail.reason, round(after - before, 3) if kept else None  # type: ignore[operator]


def detail_words(v: Portrait | Row | Mapping[str, Any]) -> str:
    """A short caption tail when the face detail pass's version was kept ('' otherwise)."""
    row = _columns(v)
    gain = row.get("detail_gain")
    return "" if gain is None else f" · face retouched ({gain:+.2f})"
