"""Portraits of two people ("Together", issue 24): how each kind of family words them and
where each person's identity goes in the picture.

The bot sends a two-person order worded as for one person (the style's template with
the one-person subject, prompts/families.toml) plus the second person's references and a
:class:`~sitter.contract.Placement`. The family rewords it here:

- A **reference family** (FLUX.2 [klein], Qwen-Image-Edit) sees both people's photos as
  its input images, the first person's first. The prompt names "the first person" and
  "the second person" by the images that show them ("reference images 1 and 2 show the
  first person; reference images 3 and 4 show the second person"), says where each
  stands, and asks for each face to stay that person's own.
- A **text-to-image family** with an identity adapter (SDXL, SD 1.5) reads "two people"
  and where they stand; the adapter gets one face mask per person (:func:`mask_spans`:
  the first person's identity paints the left part, the second person's the right).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sitter.contract import Placement
from sitter.prompts import DEFAULT_WORDINGS

DEFAULT_PLACEMENT = Placement.SIDE_BY_SIDE

# Where the two stand, for a model that knows who is who (reference families).
REFERENCE_PLACEMENT = {
    Placement.SIDE_BY_SIDE: "standing side by side, the first person on the left and the "
    "second person on the right",
    Placement.SHOULDER_TO_SHOULDER: "standing close together shoulder to shoulder, the first "
    "person on the left and the second person on the right",
    Placement.FACING: "facing each other in profile, the first person on the left turned to "
    "the right and the second person on the right turned to the left",
    Placement.BACK_TO_BACK: "standing back to back, the first person on the left and the "
    "second person on the right, both turning their heads towards the camera",
}
# ... and for one that only reads "two people" (the adapter's masks say who is where).
TEXT_PLACEMENT = {
    Placement.SIDE_BY_SIDE: "two people standing side by side, one on the left and one on "
    "the right",
    Placement.SHOULDER_TO_SHOULDER: "two people standing close together shoulder to shoulder",
    Placement.FACING: "two people facing each other in profile, one on the left and one on "
    "the right",
    Placement.BACK_TO_BACK: "two people standing back to back, heads turned towards the camera",
}
PAIR_SUFFIX = (
    "exactly two people, each appearing once, each with their own face, skin tone and hair "
    "from their own {images}"
)

# The part of the width (left, right as shares) each person's identity adapter paints:
# the first person's span, then the second's. Close placements overlap in the middle.
MASK_SPANS: dict[Placement, tuple[tuple[float, float], tuple[float, float]]] = {
    Placement.SIDE_BY_SIDE: ((0.0, 0.5), (0.5, 1.0)),
    Placement.SHOULDER_TO_SHOULDER: ((0.0, 0.55), (0.45, 1.0)),
    Placement.FACING: ((0.0, 0.47), (0.53, 1.0)),
    Placement.BACK_TO_BACK: ((0.0, 0.5), (0.5, 1.0)),
}


def mask_spans(placement: Placement | None) -> tuple[tuple[float, float], tuple[float, float]]:
    return MASK_SPANS[placement or DEFAULT_PLACEMENT]


def _numbers(first: int, count: int) -> str:
    """1, 2 -> "1 and 2"; 3, 1 -> "3"; 1, 3 -> "1, 2 and 3"."""
    n = [str(i) for i in range(first, first + count)]
    return n[0] if len(n) == 1 else f"{', '.join(n[:-1])} and {n[-1]}"


def who_is_who(counts: Sequence[int], noun: tuple[str, str], start: int = 1) -> str:
    """Who each input image shows, in the order the model gets them: for ``counts``
    (2, 1), "Reference images 1 and 2 show the first person; reference image 3 shows the
    second person." (numbered from ``start``)."""
    parts = []
    for count, who in zip(counts, ("the first person", "the second person"), strict=True):
        one, many = noun
        verb = "shows" if count == 1 else "show"
        parts.append(f"{one if count == 1 else many} {_numbers(start, count)} {verb} {who}")
        start += count
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def renumber(
    prompt: str,
    counts: Sequence[int],
    kept: Sequence[int],
    noun: tuple[str, str],
    start: int = 1,
) -> str:
    """The two-person wording for an edit that shows the model ``kept`` photos of each
    person (of the order's ``counts``), numbered from ``start``."""
    return prompt.replace(who_is_who(counts, noun), who_is_who(kept, noun, start), 1)


def reference_pair_prompt(
    prompt: str, counts: Sequence[int], placement: Placement | None, noun: tuple[str, str]
) -> str:
    """A reference family's one-person wording of the order, made about two people."""
    wording = DEFAULT_WORDINGS["reference"]
    where = REFERENCE_PLACEMENT[placement or DEFAULT_PLACEMENT]
    subject = f"the first person and the second person, {where}"
    text = prompt.replace(wording.subject, subject, 1)
    suffix = PAIR_SUFFIX.format(images=noun[1].lower())
    if wording.suffix and wording.suffix in text:
        text = text.replace(wording.suffix, suffix, 1)
    else:
        text = f"{text.rstrip(' ,.')}, {suffix}"
    lead = f"A portrait of two people together. {who_is_who(counts, noun)}"
    if subject not in text:  # a style that words its subject itself: say where they stand
        lead = f"{lead} In the picture they are {where}."
    return f"{lead} {text}"


def text_pair_prompt(prompt: str, placement: Placement | None) -> str:
    """A text-to-image family's one-person prompt, made about two people."""
    subject = DEFAULT_WORDINGS["text_to_image"].subject  # "a person"
    two = TEXT_PLACEMENT[placement or DEFAULT_PLACEMENT]
    found = re.compile(rf"\b{re.escape(subject)}\b")
    if found.search(prompt):
        return found.sub(lambda _: two, prompt, count=1)
    return f"{two}, {prompt}"  # a described subject: the two people lead
