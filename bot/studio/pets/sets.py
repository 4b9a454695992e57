"""Whose set a step or an order uses (the models' words for a pet are prompts/families.toml's).

Codes in storage: a set's ``subject`` is 'person', 'cat' or 'dog'; session data carries
``whose`` (a set id), ``pet`` (the code) and ``pet_name`` once a pet's portrait is chosen."""

from __future__ import annotations

from typing import Any

from bot.store.store import Row, Store
from sitter import contract as c

WHOSE, PET, PET_NAME = "whose", "pet", "pet_name"  # session data keys
PETS = frozenset({"cat", "dog"})  # the pet subjects (codes)


def is_pet(row: Row | None) -> bool:
    return row is not None and str(row["subject"] or "person") != c.Subject.PERSON


def subject(code: str | None) -> c.Subject:
    """An order's or a set's code as the contract's Subject (a person for none)."""
    try:
        return c.Subject(code or c.Subject.PERSON)
    except ValueError:
        return c.Subject.PERSON


def pet_data(row: Row) -> dict[str, Any]:
    """Session data naming the set an order is for (empty for the person's own)."""
    if not is_pet(row):
        return {WHOSE: int(row["id"])}
    return {WHOSE: int(row["id"]), PET: str(row["subject"]), PET_NAME: str(row["pet_name"])}


def chosen_pet(data: dict[str, Any] | None) -> tuple[str, str] | None:
    """(code, name) when the wizard's answers are for a pet's portrait, else None."""
    code = str((data or {}).get(PET) or "")
    return (code, str((data or {}).get(PET_NAME) or "")) if code in PETS else None


async def own_set(store: Store, user: Row, set_id: Any) -> Row | None:
    """The person's open set by id (a pet's or their own); None when not theirs or gone."""
    try:
        sid = int(set_id)
    except (TypeError, ValueError):
        return None
    row = await store.set_row(sid)
    if row is None or row["user_id"] != user["id"] or row["status"] == "archived":
        return None
    return row


async def sitting_set(store: Store, user: Row, choices: dict[str, Any]) -> Row:
    """The set an order from these answers paints: the one the wizard chose (``whose``),
    else the set the person works on (their own unless they chose a pet's)."""
    if WHOSE in choices and (row := await own_set(store, user, choices[WHOSE])) is not None:
        return row
    return await store.current_set(user["id"])
