"""Pets' reference sets (issue 25): a person keeps their own set and one per pet.

A set's ``subject`` is a code ('person', 'cat', 'dog'); a pet's set has the name the owner
gave it and when the owner confirmed the photos are theirs to use. ``working_sets`` says
which set the references step collects into (no row: the person's own set)."""

from __future__ import annotations

from bot.store.base import Db, Row, now_iso

PERSON = "person"
PET_SUBJECTS = ("cat", "dog")
# An order says whose portrait it is, as its set says when it is made (a retry, a vary or
# a pack's order from the same set says the same; NULLs for a person's, as older orders).
COPY_SITTER = (
    "UPDATE orders SET sitter = (SELECT NULLIF(s.subject, 'person') FROM reference_sets s "
    "WHERE s.id = orders.set_id), pet_name = (SELECT s.pet_name FROM reference_sets s "
    "WHERE s.id = orders.set_id) WHERE id = ?"
)


class PetSets(Db):
    async def set_row(self, set_id: int) -> Row | None:
        return await self.one("SELECT * FROM reference_sets WHERE id = ?", set_id)

    async def pet_sets(self, user_id: int) -> list[Row]:
        """The person's pets' open sets, oldest first (one per pet)."""
        return await self.all(
            "SELECT * FROM reference_sets WHERE user_id = ? AND subject != 'person' "
            "AND status != 'archived' ORDER BY id",
            user_id,
        )

    async def pet_set_named(self, user_id: int, name: str) -> Row | None:
        """The pet's open set by its name (any case)."""
        return await self.one(
            "SELECT * FROM reference_sets WHERE user_id = ? AND subject != 'person' "
            "AND status != 'archived' AND pet_name = ? COLLATE NOCASE",
            user_id,
            name,
        )

    async def start_pet_set(self, user_id: int, subject: str, name: str) -> int:
        """A new pet's set, the owner's confirmation recorded with it."""
        if subject not in PET_SUBJECTS:
            raise ValueError(f"not a pet subject: {subject!r}")
        return await self.run(
            "INSERT INTO reference_sets (user_id, subject, pet_name, owner_confirmed_at) "
            "VALUES (?, ?, ?, ?)",
            user_id,
            subject,
            name,
            now_iso(),
        )

    async def work_on(self, user_id: int, set_id: int | None) -> None:
        """The references step collects into this set from now on (None: the person's own)."""
        if set_id is None:
            await self.run("DELETE FROM working_sets WHERE user_id = ?", user_id)
            return
        await self.run(
            "INSERT INTO working_sets (user_id, set_id) VALUES (?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET set_id = excluded.set_id",
            user_id,
            set_id,
        )

    async def set_subject(self, set_id: int | None) -> tuple[str, str]:
        """(subject code, pet name) of a set; ('person', '') for none or the person's own."""
        row = await self.set_row(set_id) if set_id else None
        if row is None:
            return PERSON, ""
        return str(row["subject"] or PERSON), str(row["pet_name"] or "")
