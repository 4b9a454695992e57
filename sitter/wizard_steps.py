"""prompts/wizard.toml: the wizard's questions after the style, of three kinds.

- a slot step (``slot = "attire"``; the default kind) fills the template slot of its
  name with prompt words;
- ``kind = "subject"``: how to describe the person; fills ``{subject}`` (else "a
  person"), optional (Skip), the last answer offered again next time;
- ``kind = "format"``: the picture's format; sets the request's ``aspect`` (each
  preset's value is one: 1:1, 4:5, 9:16, 16:9), never prompt words.

A subject or format step has no ``slot`` (its state is named for its kind), and
each appears at most once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sitter.contract import Aspect
from sitter.prompt_files import PromptError, read_toml, text_value

# The slots a template may use: {subject} is filled by the studio, the rest by the wizard,
# one per step of prompts/wizard.toml (a new step there is a new slot: no code change).
SUBJECT = "subject"
# Names a wizard step may not take: the studio's own states and the style's key.
RESERVED_SLOTS = frozenset(
    {SUBJECT, "format", "style", "pack", "preview", "consent", "references", "confirm", "idle"}
)
# Wizard step kinds: a slot fills prompt words; "subject" fills {subject} (how to describe
# the person: optional, remembered); "format" sets the request's aspect, not the prompt.
SLOT, SUBJECT_STEP, FORMAT_STEP = "slot", "subject", "format"
STEP_KINDS = (SLOT, SUBJECT_STEP, FORMAT_STEP)
# The longest description of the person (UTF-8 bytes) the subject step takes: the
# reference-prompt check below budgets for it, so any allowed description fits.
SUBJECT_MAX_BYTES = 80


@dataclass(frozen=True)
class Preset:
    label: str
    value: str


@dataclass(frozen=True)
class WizardStep:
    """One question after the style. ``slot`` is its state's name: the slot it fills for
    a slot step, else its kind ("subject", "format")."""

    slot: str
    question: str
    presets: tuple[Preset, ...]
    kind: str = SLOT


def load_wizard(path: Path) -> tuple[WizardStep, ...]:
    if not path.is_file():
        raise PromptError(f"{path}: missing (the wizard's steps and presets)")
    data = read_toml(path)
    raw = data.get("steps")
    if not isinstance(raw, list) or not raw:
        raise PromptError(f"{path}: expected [[steps]] entries")
    steps = []
    for i, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            raise PromptError(f"{path}: step {i} is not a table")
        unknown = set(item) - {"slot", "kind", "question", "presets"}
        if unknown:
            raise PromptError(f"{path}: step {i}: unknown keys {sorted(unknown)}")
        kind = item.get("kind", SLOT)
        if kind not in STEP_KINDS:
            raise PromptError(
                f"{path}: step {i}: kind must be one of {', '.join(STEP_KINDS)}, got {kind!r}"
            )
        slot = item.get("slot") if kind == SLOT else kind
        if kind != SLOT and "slot" in item:
            raise PromptError(
                f"{path}: step {i}: a {kind} step fills no prompt slot; leave out slot"
            )
        if not isinstance(slot, str) or not slot.isidentifier() or not slot.islower():
            raise PromptError(
                f"{path}: step {i}: slot must be a lower_snake_case name, got {slot!r}"
            )
        if kind == SLOT and slot in RESERVED_SLOTS:
            raise PromptError(f"{path}: step {i}: {slot!r} is reserved; choose another slot name")
        presets = []
        for p in item.get("presets", []):
            if not isinstance(p, dict) or not all(
                isinstance(p.get(k), str) and p.get(k) for k in ("label", "value")
            ):
                raise PromptError(f"{path}: step {slot!r}: each preset needs label and value")
            presets.append(Preset(p["label"], p["value"]))
        if not presets:
            raise PromptError(f"{path}: step {slot!r} has no presets")
        _check_kind_presets(path, kind, presets)
        steps.append(WizardStep(slot, text_value(path, item, "question"), tuple(presets), kind))
    slots = [s.slot for s in steps]
    if len(set(slots)) != len(slots):
        raise PromptError(
            f"{path}: each slot (and the subject and format steps) may have one step only, "
            f"got {slots}"
        )
    return tuple(steps)


def _check_kind_presets(path: Path, kind: str, presets: list[Preset]) -> None:
    """A format preset's value is a format (1:1, 4:5, 9:16, 16:9); a subject preset fits
    the description limit."""
    if kind == FORMAT_STEP:
        formats = [a.value for a in Aspect]
        bad = [p.value for p in presets if p.value not in formats]
        if bad:
            raise PromptError(
                f"{path}: format step: unknown format(s) {bad}; use {', '.join(formats)}"
            )
        if len({p.value for p in presets}) != len(presets):
            raise PromptError(f"{path}: format step: each format may have one preset")
    if kind == SUBJECT_STEP:
        long = [p.value for p in presets if len(p.value.encode("utf-8")) > SUBJECT_MAX_BYTES]
        if long:
            raise PromptError(
                f"{path}: subject step: preset(s) over {SUBJECT_MAX_BYTES} bytes: {long}"
            )
