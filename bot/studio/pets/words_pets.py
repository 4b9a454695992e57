"""Every sentence of the pets feature (made when sent; the store keeps codes)."""

from __future__ import annotations

from sitter.contract import PhotoProblem

# A pet's photo refused, with its reason (bot/studio/core/words.py issue_words says them).
PET_PROBLEMS: dict[PhotoProblem, str] = {
    PhotoProblem.NO_PET: "I can't find a cat or a dog in it",
    PhotoProblem.SEVERAL_PETS: "there is more than one animal; send photos of this pet alone",
    PhotoProblem.PET_TOO_SMALL: "the animal is too small in it; come closer or crop it",
    PhotoProblem.PERSON_IN_PET_PHOTO: (
        "there is a person in it; a pet's set takes photos of the pet alone"
    ),
    PhotoProblem.WRONG_SPECIES: "it shows another kind of animal than this pet's set",
}

SPECIES = {"cat": "cat", "dog": "dog"}
PET_BUTTON = "🐾 Photos of my pet"
NEW_PET_BUTTON = "🐾 A new pet"
ME_BUTTON = "Me"
CAT_BUTTON, DOG_BUTTON = "🐱 A cat", "🐶 A dog"
NAME_MAX = 40


def species(code: str) -> str:
    return SPECIES.get(code, code)


def pet_label(name: str, code: str) -> str:
    """A pet as a button or a line says it: "Rex (dog)"."""
    return f"{name} ({species(code)})"


def ask_name(pets: list[str]) -> str:
    have = f" Or choose one of your pets: {', '.join(pets)}." if pets else ""
    return (
        "A portrait of your pet: what is its name? Type it (a cat or a dog, one pet per set)."
        + have
    )


def ask_species(name: str) -> str:
    return (
        f"Is {name} a cat or a dog?\n"
        "By choosing, you confirm that the photos you send of it are yours to use (your "
        "own pet's, or taken with its owner's permission). Photos with a person in them are "
        "refused: only the pet, please."
    )


def name_too_long(n: int) -> str:
    return f"That's {n} characters; a pet's name of up to {NAME_MAX} characters, please."


NAME_EMPTY = "Type your pet's name, please."


def ask_photos(name: str, code: str, minimum: int) -> str:
    return (
        f"Send me photos of {name}: at least {minimum}, 10–20 is best. Good ones show only "
        f"{name}, large and sharp, its face and coat clearly, in good light and from "
        f"slightly different angles; no people in the picture. This {species(code)}'s set "
        "is kept apart from your own photos."
    )


def photos_ready(n: int, name: str) -> str:
    return f"Great, {n} photos of {name} are ready."


def left_out(name: str, pet: str) -> str:
    return f"• {name} looks like another animal than {pet} in your other photos, so I left it out."


def taken_back(name: str, pet: str) -> str:
    return f"• {name} counts after all: most of your photos show {pet}."


def no_photos_yet(name: str) -> str:
    return f"{name}'s set has no photos yet: send me a few of {name}."


def new_set_started(deleted: int, name: str) -> str:
    return (
        f"I deleted the {deleted} photo{'s' if deleted != 1 else ''} of {name}'s set. "
        f"Send new photos of {name} to start again."
    )


def collecting_for(name: str, code: str) -> str:
    return f"Now collecting photos of {pet_label(name, code)}."


PET_OPENED = "Your pet's photo set is open below."
COLLECTING_ME = "Now collecting photos of you."
NOT_YOUR_SET = "That set isn't yours, or it is gone. Send /photos to see your sets."
WHOSE_PHOTOS = "Whose photos? Your own, or one of your pets' (each has its own set):"
WHOSE_PORTRAIT = "Who is this portrait of?"
NOT_READY = "That set has no ready photos yet: send photos first (then press Done)."


def for_pet(name: str, code: str) -> str:
    """The order summary's and the results' line: whose portrait."""
    return f"Portrait of: {pet_label(name, code)}"


def results_name(style: str, pet: str) -> str:
    """ "Watercolor, of Rex": the results' and /portraits' name of a pet's order."""
    return f"{style}, of {pet}"


def no_pet_styles() -> str:
    return "No style here is made for pets yet; ask the operator to mark some with pets = true."


def people_only(style: str) -> str:
    return f"{style} paints people only; choose one of the styles listed for pets."


PACK_PEOPLE_ONLY = "That pack paints people only; choose a style or a pack for pets."


def styles_for(pet: str) -> str:
    return f"The styles that suit {pet}:"
