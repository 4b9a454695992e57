"""The screen's refusal in words, through the catalogs. The reasons are the category
files' own (``prompts/safety/*.toml``), repeated here so that the catalogs hold them;
tests/test_safety_languages.py checks that the two agree."""

from __future__ import annotations

from sitter.i18n import N_, _

REASONS = {
    "sexual": N_(
        "Sitter does not make nude, sexual or erotic pictures. Please describe clothing and "
        "a setting that are fine to show anyone."
    ),
    "minors": N_(
        "Sitter makes portraits of adults only and does not show anyone as a child or "
        "teenager. Please leave out ages under 18 and words about children."
    ),
    "impersonation": N_(
        "Sitter does not make pictures that present you as a real public figure or that pass "
        "for a real news photo, document or leak. Please describe a look instead of naming a "
        "real person."
    ),
    "hate": N_(
        "Sitter does not make pictures with hate symbols, slogans or uniforms, or pictures "
        "that demean people for who they are. Please describe a different look."
    ),
    "youth_revealing": N_(
        "Sitter makes portraits of adults only, and does not pair an age or a school year "
        "with revealing clothes. Please leave out the age or choose other clothes."
    ),
}
# The typed answers' slots, as a refusal names them ("in your attire").
SLOTS = {
    "attire": N_("attire"),
    "setting": N_("setting"),
    "lighting": N_("lighting"),
    "composition": N_("composition"),
    "subject": N_("subject"),
    "text": N_("text"),
    "order": N_("order"),
}


def refusal(term: str, slot: str, reason: str, together: str = "") -> str:
    """``I can't use “nude” in your attire. <why>`` (a pair: ``“a” together with “b”``)."""
    where = _(SLOTS[slot]) if slot in SLOTS else slot.replace("_", " ")
    why = _(reason)
    if together and slot:
        text = _("I can't use “{term}” together with “{other}” in your {slot}. {reason}")
    elif together:
        text = _("I can't use “{term}” together with “{other}” in one order. {reason}")
    elif slot:
        text = _("I can't use “{term}” in your {slot}. {reason}")
    else:
        text = _("I can't use “{term}”. {reason}")
    return text.format(term=term, other=together, slot=where, reason=why)
