"""Every sentence of the pets feature (made when sent; the store keeps codes), through
the catalogs (sitter/i18n.py): constants translated when read."""

from __future__ import annotations

from bot.studio.core import words as core_words
from sitter import i18n
from sitter.i18n import N_, _

# A pet's photo refused, with its reason: the hints live with every photo problem's
# (bot/studio/core/words.py PET_PROBLEMS), which issue_words says.
PET_PROBLEMS = core_words.PET_PROBLEMS

SPECIES = {"cat": N_("cat"), "dog": N_("dog")}
NAME_MAX = 40
_WORDS = {
    # LABEL
    "PET_BUTTON": N_("🐾 Photos of my pet"),
    # LABEL
    "NEW_PET_BUTTON": N_("🐾 A new pet"),
    # LABEL
    "ME_BUTTON": N_("Me"),
    # LABEL
    "CAT_BUTTON": N_("🐱 A cat"),
    # LABEL
    "DOG_BUTTON": N_("🐶 A dog"),
    "NAME_EMPTY": N_("Type your pet's name, please."),
    "NAME_MARKUP": N_(
        "Please type the name with letters, digits, spaces and simple punctuation "
        "(no * _ ~ | ` < > [ ] # @ or \\)."
    ),
    "PET_OPENED": N_("Your pet's photo set is open below."),
    "COLLECTING_ME": N_("Now collecting photos of you."),
    "NOT_YOUR_SET": N_("That set isn't yours, or it is gone. Send /photos to see your sets."),
    "WHOSE_PHOTOS": N_("Whose photos? Your own, or one of your pets' (each has its own set):"),
    "WHOSE_PORTRAIT": N_("Who is this portrait of?"),
    "NOT_READY": N_("That set has no ready photos yet: send photos first (then press Done)."),
    "PACK_PEOPLE_ONLY": N_("That pack paints people only; choose a style or a pack for pets."),
}


def __getattr__(name: str) -> str:
    """The sentence constants above, in the language being spoken."""
    return i18n.attribute(_WORDS, __name__, name)


def species(code: str) -> str:
    return _(SPECIES[code]) if code in SPECIES else code


def pet_label(name: str, code: str) -> str:
    """A pet as a button or a line says it: "Rex (dog)"."""
    return f"{name} ({species(code)})"


def ask_name(pets: list[str]) -> str:
    have = " " + _("Or choose one of your pets: {pets}.").format(pets=", ".join(pets))
    return _(
        "A portrait of your pet: what is its name? Type it (a cat or a dog, one pet per set)."
    ) + (have if pets else "")


def ask_species(name: str) -> str:
    return _(
        "Is {name} a cat or a dog?\n"
        "By choosing, you confirm that the photos you send of it are yours to use (your "
        "own pet's, or taken with its owner's permission). Photos with a person in them are "
        "refused: only the pet, please."
    ).format(name=name)


def name_too_long(n: int) -> str:
    return _("That's {n} characters; a pet's name of up to {most} characters, please.").format(
        n=n, most=NAME_MAX
    )


def too_many_pets(n: int) -> str:
    return _(
        "You have {n} pets' photo sets, the most there is room for: choose one of them "
        "(“new set” there starts its photos again)."
    ).format(n=n)


def ask_photos(name: str, code: str, minimum: int) -> str:
    return _(
        "Send me photos of {name}: at least {minimum}, 10–20 is best. Good ones show only "
        "{name}, large and sharp, its face and coat clearly, in good light and from "
        "slightly different angles; no people in the picture. This {species}'s set "
        "is kept apart from your own photos."
    ).format(name=name, minimum=minimum, species=species(code))


def photos_ready(n: int, name: str) -> str:
    return _("Great, {n} photos of {name} are ready.").format(n=n, name=name)


def left_out(name: str, pet: str) -> str:
    return _(
        "• {name} looks like another animal than {pet} in your other photos, so I left it out."
    ).format(name=name, pet=pet)


def taken_back(name: str, pet: str) -> str:
    return _("• {name} counts after all: most of your photos show {pet}.").format(
        name=name, pet=pet
    )


def no_photos_yet(name: str) -> str:
    return _("{name}'s set has no photos yet: send me a few of {name}.").format(name=name)


def new_set_started(deleted: int, name: str) -> str:
    return i18n.ngettext(
        "I deleted the {n} photo of {name}'s set. Send new photos of {name} to start again.",
        "I deleted the {n} photos of {name}'s set. Send new photos of {name} to start again.",
        deleted,
    ).format(n=deleted, name=name)


def collecting_for(name: str, code: str) -> str:
    return _("Now collecting photos of {pet}.").format(pet=pet_label(name, code))


def for_pet(name: str, code: str) -> str:
    """The order summary's and the results' line: whose portrait."""
    return _("Portrait of: {pet}").format(pet=pet_label(name, code))


def results_name(style: str, pet: str) -> str:
    """ "Watercolor, of Rex": the results' and /portraits' name of a pet's order."""
    return _("{style}, of {pet}").format(style=style, pet=pet)


def no_pet_styles() -> str:
    return _("No style here is made for pets yet; ask the operator to mark some with pets = true.")


def people_only(style: str) -> str:
    return _("{style} paints people only; choose one of the styles listed for pets.").format(
        style=style
    )


def styles_for(pet: str) -> str:
    return _("The styles that suit {pet}:").format(pet=pet)


# The wizard's questions that speak to the person (prompts/wizard.toml), asked of a pet.
_PET_QUESTIONS = {
    "attire": N_("What should {name} wear?"),
    "setting": N_("Where is {name}? (the background)"),
}


def pet_question(slot: str, name: str) -> str | None:
    """A slot's question for a pet's portrait (None: the person's question fits)."""
    found = _PET_QUESTIONS.get(slot)
    return _(found).format(name=name) if found else None
