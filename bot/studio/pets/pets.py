"""The pets' steps of the table and their command and presses.

- ``pet``: which pet (its name typed, or one of the person's pets pressed); a new name
  goes on to ``pet_kind``: a cat or a dog, which is also the owner's confirmation that
  the photos are theirs to use (recorded with the set). Then the references step
  collects into the pet's set (bot/studio/photos/ judges it with the subject).
- ``whose``: "who is this portrait of", asked by /new once the person has a pet's set.
- ``/pet`` and "🐾 Photos of my pet" (a wizard button valid in every step) start it; the
  /photos menu's ``pt:<set>`` buttons choose the set to collect into.
"""

from __future__ import annotations

from typing import Any

from bot.store.store import Row
from bot.studio.core import buttons as b
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import (
    Arrow,
    FilesHandler,
    Outcome,
    PressHandler,
    State,
    Step,
    Turn,
    again,
    go,
    say,
)
from bot.studio.core.events import Button, Reply
from bot.studio.core.routes import Routes
from bot.studio.core.services import Services
from bot.studio.pets import buttons as pb
from bot.studio.pets import sets
from bot.studio.pets import words_pets as wpt
from bot.studio.safety.semantic import typed_refusal

PET_STEP, KIND_STEP, WHOSE_STEP = "pet", "pet_kind", "whose"  # states
SPECIES = ("cat", "dog")


def _rows(items: list[Button], per_row: int) -> list[tuple[Button, ...]]:
    return [tuple(items[i : i + per_row]) for i in range(0, len(items), per_row)]


class Pets:
    def __init__(self, services: Services):
        self.s = services

    def register(self, routes: Routes) -> None:
        routes.on_command("pet", self.pet_command)
        routes.on_press(pb.PetPress, self.collect_press)

    # --- starting: /pet, the "🐾" button, the /photos menu -------------------------------
    async def pet_command(self, turn: Turn) -> Outcome:
        return go(PET_STEP, {})

    async def start(self, turn: Turn, _arg: str) -> Outcome:
        """ "🐾 Photos of my pet" (a wizard button; in any step but consent: nothing is
        collected before "I agree")."""
        if turn.state == State.CONSENT:
            return again(say(w.PRESS_AGREE))
        return go(PET_STEP, {})

    async def collect_into(self, user: Row, row: Row) -> Outcome:
        """The references step collects into this set from now on."""
        store = self.s.store
        await store.work_on(user["id"], row["id"] if sets.is_pet(row) else None)
        await store.set_status(row["id"], "collecting")
        said = (
            wpt.collecting_for(row["pet_name"], row["subject"])
            if sets.is_pet(row)
            else wpt.COLLECTING_ME
        )
        return go(State.REFERENCES, {}, say(said))

    async def collect_press(self, turn: Turn, p: pb.PetPress) -> list[Reply] | Outcome:
        """``pt:<set>`` from the /photos menu (checked against its owner)."""
        row = await sets.own_set(self.s.store, turn.user, p.id)
        if row is None:
            return [say(wpt.NOT_YOUR_SET)]
        return await self.collect_into(turn.user, row)

    async def photos_menu(self, turn: Turn) -> Reply | None:
        """/photos with pets' sets: whose photos (None: the person has no pet)."""
        store, user = self.s.store, turn.user
        pets = await store.pet_sets(user["id"])
        if not pets:
            return None
        me = await store.person_set(user["id"])
        items = [Button(wpt.ME_BUTTON, pb.collect(me["id"]))]
        items += [
            Button(wpt.pet_label(r["pet_name"], r["subject"]), pb.collect(r["id"])) for r in pets
        ]
        new = (Button(wpt.NEW_PET_BUTTON, b.wizard(turn.rev, "pet")),)
        return say(wpt.WHOSE_PHOTOS, *_rows(items, 2), new)

    # --- the steps ----------------------------------------------------------------------
    def steps(self, cancel: PressHandler, no_files: FilesHandler) -> list[Step]:
        return [
            self._pet(cancel, no_files),
            self._kind(cancel, no_files),
            self._whose(cancel, no_files),
        ]

    def _nav(self, rev: int) -> tuple[Button, ...]:
        return (Button(w.BACK, b.wizard(rev, "back")), Button(w.CANCEL, b.wizard(rev, "cancel")))

    def _pet(self, cancel: PressHandler, no_files: FilesHandler) -> Step:
        store = self.s.store

        async def show(turn: Turn) -> list[Reply]:
            pets = await store.pet_sets(turn.user["id"])
            names = [wpt.pet_label(r["pet_name"], r["subject"]) for r in pets]
            items = [
                Button(n, b.wizard(turn.rev, "collect", str(r["id"])))
                for n, r in zip(names, pets, strict=True)
            ]
            return [say(wpt.ask_name(names), *_rows(items, 2), self._nav(turn.rev))]

        async def collect(turn: Turn, arg: str) -> Outcome:
            row = await sets.own_set(store, turn.user, arg)
            if row is None or not sets.is_pet(row):
                return again(say(wpt.NOT_YOUR_SET))
            return await self.collect_into(turn.user, row)

        async def text(turn: Turn, text: str) -> Outcome:
            name = " ".join(text.split())
            if not name:
                return again(say(wpt.NAME_EMPTY))
            if len(name) > wpt.NAME_MAX:
                return again(say(wpt.name_too_long(len(name))))
            if refusal := await typed_refusal(self.s, turn.user, name):
                return again(say(refusal))
            known = await store.pet_set_named(turn.user["id"], name)
            if known is not None:
                return await self.collect_into(turn.user, known)
            return go(KIND_STEP, {sets.PET_NAME: name})

        async def back_to_photos(turn: Turn, _arg: str) -> Outcome:
            return go(State.REFERENCES, {})  # the set they were collecting

        return Step(
            PET_STEP,
            show,
            {"collect": collect, "back": back_to_photos, "cancel": cancel},
            text,
            no_files,
            arrows=(
                Arrow(KIND_STEP, "a new pet's name"),
                Arrow(State.REFERENCES, "one of my pets (its set)"),
                Arrow(State.REFERENCES, "Back"),
            ),
            wizard=True,
        )

    def _kind(self, cancel: PressHandler, no_files: FilesHandler) -> Step:
        store = self.s.store

        async def show(turn: Turn) -> list[Reply]:
            name = str(turn.data.get(sets.PET_NAME) or "")
            kinds = (
                Button(wpt.CAT_BUTTON, b.wizard(turn.rev, "species", "cat"), "primary"),
                Button(wpt.DOG_BUTTON, b.wizard(turn.rev, "species", "dog"), "primary"),
            )
            return [say(wpt.ask_species(name), kinds, self._nav(turn.rev))]

        async def chosen(turn: Turn, code: str) -> Outcome:
            name = str(turn.data.get(sets.PET_NAME) or "")
            if code not in SPECIES:
                return again(say(w.NOT_ON_LIST))
            if not name:  # (a session saved without the name): ask it again
                return go(PET_STEP, {})
            known = await store.pet_set_named(turn.user["id"], name)
            if known is None:  # the confirmation is recorded with the new set
                set_id = await store.start_pet_set(turn.user["id"], code, name)
                known = await store.set_row(set_id)
            assert known is not None
            return await self.collect_into(turn.user, known)

        async def species(turn: Turn, arg: str) -> Outcome:
            return await chosen(turn, arg)

        async def text(turn: Turn, text: str) -> Outcome:
            typed = text.strip().lower().removeprefix("a ").strip()
            return await chosen(turn, typed if typed in SPECIES else "")

        async def back(turn: Turn, _arg: str) -> Outcome:
            return go(PET_STEP, {})

        return Step(
            KIND_STEP,
            show,
            {"species": species, "back": back, "cancel": cancel},
            text,
            no_files,
            arrows=(
                Arrow(State.REFERENCES, "a cat or a dog (the owner confirms the photos)"),
                Arrow(PET_STEP, "Back"),
            ),
            wizard=True,
        )

    # --- whose portrait -------------------------------------------------------------------
    async def asks_whose(self, user: Row) -> bool:
        """/new asks "who is this portrait of" once the person has a pet's set."""
        return bool(await self.s.store.pet_sets(user["id"]))

    def _whose(self, cancel: PressHandler, no_files: FilesHandler) -> Step:
        store = self.s.store

        async def show(turn: Turn) -> list[Reply]:
            me = await store.person_set(turn.user["id"])
            items = [Button(wpt.ME_BUTTON, b.wizard(turn.rev, "who", str(me["id"])))]
            items += [
                Button(
                    wpt.pet_label(r["pet_name"], r["subject"]),
                    b.wizard(turn.rev, "who", str(r["id"])),
                )
                for r in await store.pet_sets(turn.user["id"])  # (not ready: photos first)
            ]
            return [say(wpt.WHOSE_PORTRAIT, *_rows(items, 2), self._nav(turn.rev))]

        async def who(turn: Turn, arg: str) -> Outcome:
            row = await sets.own_set(store, turn.user, arg)
            if row is None:
                return again(say(wpt.NOT_YOUR_SET))
            await store.work_on(turn.user["id"], row["id"] if sets.is_pet(row) else None)
            if row["status"] != "ready":  # photos first (a person's own set not ready yet)
                return go(State.REFERENCES, {}, say(wpt.NOT_READY))
            return go(State.STYLE, sets.pet_data(row))

        async def text(turn: Turn, _text: str) -> Outcome:
            return again(say(w.NOT_ON_LIST))

        async def back(turn: Turn, _arg: str) -> Outcome:
            return go(State.IDLE, {})

        return Step(
            WHOSE_STEP,
            show,
            {"who": who, "back": back, "cancel": cancel},
            text,
            no_files,
            arrows=(
                Arrow(State.STYLE, "Me, or a pet whose set is ready"),
                Arrow(State.REFERENCES, "a set not ready yet"),
                Arrow(State.IDLE, "Back"),
            ),
            wizard=True,
        )


# --- styles and packs that take pets -------------------------------------------------------
def style_keys(s: Services, keys: list[str], data: dict[str, Any] | None) -> list[str]:
    """The style step's keys for these answers: a pet's portrait offers only the styles
    that take pets (``pets = true``)."""
    if sets.chosen_pet(data) is None:
        return keys
    return [k for k in keys if s.prompts.styles[k].pets]


def style_refusal(s: Services, key: str, data: dict[str, Any] | None) -> str | None:
    """Why this style can't paint the chosen pet (None: it can, or it is a person's)."""
    pet = sets.chosen_pet(data)
    style = s.prompts.styles.get(key)
    if pet is None or style is None or style.pets:
        return None
    return wpt.people_only(style.name)


def pack_takes_pets(s: Services, styles: list[str]) -> bool:
    """A pack takes pets when every look's style does."""
    return all(k in s.prompts.styles and s.prompts.styles[k].pets for k in styles)


def styles_heading(data: dict[str, Any] | None, any_offered: bool) -> list[str]:
    """The style step's first line for a pet's portrait (none for a person's)."""
    pet = sets.chosen_pet(data)
    if pet is None:
        return []
    return [wpt.styles_for(pet[1]) if any_offered else wpt.no_pet_styles()]


def whose_lines(data: dict[str, Any] | None) -> list[str]:
    """The order summary's "Portrait of: Mochi (cat)" (none for a person's)."""
    pet = sets.chosen_pet(data)
    return [] if pet is None else [wpt.for_pet(pet[1], pet[0])]


def table_arrows(side: list[Step]) -> list[tuple[str, Arrow]]:
    """The ways into the pets' steps, for the table's diagram (the 🐾 button is a wizard
    press valid in every step: the features' side steps too)."""
    new = f"{wpt.PET_BUTTON} or /photos' {wpt.NEW_PET_BUTTON}"
    sides = [x.state for x in side if not x.wizard]  # (wizard steps: "*wizard")
    return [
        (State.IDLE, Arrow(PET_STEP, "/pet")),
        *((st, Arrow(PET_STEP, new)) for st in ("*wizard", *sides)),
        (State.IDLE, Arrow(WHOSE_STEP, "/new (with a pet's set)")),
    ]
