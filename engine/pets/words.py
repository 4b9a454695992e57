"""The engine's sentences about pet photos (``Issue.detail``, the shell's output).

The bot words refusals by their code (bot/studio words modules); these are the engine's
own, for ``sitter photos check --pet`` and for the log.
"""

from __future__ import annotations

from sitter.contract import Subject

PERSON_IN_PHOTO = "There is a person in this photo. Please send photos with only your pet in them."
UNSAFE = "I can't use this photo: it looks like it shows nudity. Please send an everyday photo."
BLURRY = "This photo is too blurry. Please send a sharper one (hold still, good light)."
DARK = "Your pet is too dark in this photo. Please send one taken in better light."
BRIGHT = "Your pet is washed out (too bright) in this photo. Please send one without flash."


def no_pet(species: Subject) -> str:
    return (
        f"I can't find a {species.value} in this photo. Please send one where your "
        f"{species.value} is clearly visible."
    )


def several(count: int) -> str:
    return f"I see {count} animals in this photo. Please send photos with only your pet in them."


def wrong_species(wanted: Subject, found: Subject) -> str:
    return f"This photo shows a {found.value}, but this set is for a {wanted.value}."


def too_small(species: Subject) -> str:
    return (
        f"Your {species.value} is too small in this photo. Please send a closer one, with "
        "your pet filling more of the picture."
    )


def other_animal(species: Subject) -> str:
    return f"This looks like a different {species.value} than your other photos."


def not_the_majority(species: Subject, majority: bool) -> str:
    if majority:
        return f"This looks like a different {species.value} than most of the other photos."
    return (
        f"This shows another {species.value} than the first photos. No {species.value} is in "
        "most of the photos, and a set holds one pet, so the one the set began with is kept."
    )


NOT_RENDERED = (
    "this worker's model renders people only: a pet's portrait needs a model that sees the "
    "reference photos (FLUX.2 [klein] or Qwen-Image-Edit)"
)
