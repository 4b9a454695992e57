"""Typed rows for the joints the studio's features share (issue 20): a portrait
(``variations``) and a reference photo (``reference_photos``), read once from their
row, their JSON columns decoded once. The store returns these; the features pass them
on instead of ``sqlite3.Row`` (whose columns are strings a typo turns into a KeyError
at run time, not a type error)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.store.base import Row


@dataclass(frozen=True, slots=True)
class Portrait:
    """One portrait of an order (a row of ``variations``)."""

    id: int
    order_id: int
    user_id: int
    idx: int  # its number in the order's message: #1..#4
    seed: int
    path: str | None  # None once removed
    removed_at: str | None
    likeness: float | None
    verdict: str | None  # the likeness gate's (None: made before the gate)
    threshold: float | None = None  # the likeness it needed
    regenerated: str = ""  # why earlier tries were made again (comma separated)
    face_found: bool = False
    passed: bool = False
    detail: str | None = None  # why the face detail pass ran (a code), None when it did not
    detail_gain: float | None = None  # the face detail pass's gain, when its version was kept

    @property
    def kept(self) -> bool:
        """Still there to work on (not removed by a moderator or a sweep)."""
        return not self.removed_at and bool(self.path)

    @classmethod
    def of(cls, row: Row) -> Portrait:
        return cls(
            id=row["id"],
            order_id=row["order_id"],
            user_id=row["user_id"],
            idx=row["idx"],
            seed=row["seed"],
            path=row["path"],
            removed_at=row["removed_at"],
            likeness=row["likeness"],
            verdict=row["verdict"],
            threshold=row["threshold"],
            regenerated=row["regenerated"] or "",
            face_found=bool(row["face_found"]),
            passed=bool(row["passed"]),
            detail=row["detail"],
            detail_gain=row["detail_gain"],
        )


@dataclass(frozen=True, slots=True)
class Photo:
    """One reference photo (a row of ``reference_photos``), JSON columns decoded."""

    id: int
    set_id: int
    user_id: int
    sha256: str
    path: str
    crop_path: str | None
    filename: str
    status: str  # pending, accepted, rejected, excluded
    reasons: list[dict[str, str]]
    embedding: list[float] | None
    backend: str  # the face backend that made the embedding ('' before analysis)
    quality: dict[str, Any]
    fingerprint: str  # the engine's perceptual fingerprint ('' before analysis)
    width: int | None
    height: int | None
    created_at: str

    @classmethod
    def of(cls, row: Row) -> Photo:
        return cls(
            id=row["id"],
            set_id=row["set_id"],
            user_id=row["user_id"],
            sha256=row["sha256"],
            path=row["path"],
            crop_path=row["crop_path"],
            filename=row["filename"],
            status=row["status"],
            reasons=json.loads(row["reasons"] or "[]"),
            embedding=json.loads(row["embedding"]) if row["embedding"] else None,
            backend=row["backend"] or "",
            quality=json.loads(row["quality"] or "{}"),
            fingerprint=row["fingerprint"] or "",
            width=row["width"],
            height=row["height"],
            created_at=row["created_at"],
        )
