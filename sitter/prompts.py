"""Styles and wizard options as data (``prompts/``), loaded and validated at start.

``prompts/styles/<key>.toml`` holds one style: ``name``, ``description``, a
``template`` whose ``{slots}`` the wizard fills, a ``negative`` prompt and
recommended generation ``[params]``, its ``[likeness]`` gate: ``kind``
(photographic, painted or drawn: the face model's bar is calibrated per kind) and
``policy`` (threshold, lenient or off; lenient and off need a ``reason``), and
optionally a ``reference_template`` for models that see the person's photos
(FLUX.2 [klein]), and ``pets = true`` when it suits a cat's or a dog's portrait.
``prompts/families.toml`` says how each kind of model is addressed (see
:class:`Wording`). ``prompts/wizard.toml`` lists the wizard's steps after the style,
each with preset answers; each step is a slot, so a new step there is a new question
of the chat (bot/studio/wizard/wizard.py builds its steps
from this list). Anything malformed, or a slot a template names that no step
asks, raises :class:`PromptError` naming the file.

Used by both the bot and ``sitter generate``; imports nothing heavy.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitter.contract import GatePolicy, GenerationParams, LikenessGate, StyleKind
from sitter.prompt_files import PromptError
from sitter.prompt_files import read_toml as _read_toml
from sitter.prompt_files import text_value as _text
from sitter.wizard_steps import (
    RESERVED_SLOTS,
    SLOT,
    SUBJECT,
    SUBJECT_MAX_BYTES,
    SUBJECT_STEP,
    Preset,
    WizardStep,
    load_wizard,
)

__all__ = ["RESERVED_SLOTS", "SUBJECT", "Preset", "PromptError", "WizardStep"]

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"

# The slots a template may use: {subject} is filled by the studio, the rest by the wizard,
# one per step of prompts/wizard.toml (a new step there is a new slot: no code change).
# The slots of the shipped prompts/wizard.toml (the shipped styles name each of them).
WIZARD_SLOTS = ("attire", "setting", "lighting", "composition")
KNOWN_SLOTS = frozenset((SUBJECT, *WIZARD_SLOTS))
DEFAULT_SUBJECT = "a person"
_PARAM_KEYS = set(GenerationParams.model_fields)
# A reference prompt this many UTF-8 bytes long always fits FLUX.2 [klein]'s 512
# tokens: byte-level BPE makes at most one token per byte, and the chat template
# adds under 32. Longer ones are counted exactly by the engine.
REFERENCE_PROMPT_SAFE_BYTES = 480


@dataclass(frozen=True)
class Style:
    key: str
    name: str
    description: str
    template: str
    negative: str
    params: GenerationParams
    slots: frozenset[str]
    likeness: LikenessGate = field(default_factory=LikenessGate)
    reference_template: str = ""
    pets: bool = False  # suits a cat's or a dog's portrait (``pets = true``; issue 25)

    def compose(
        self, answers: dict[str, str], subject: str = DEFAULT_SUBJECT, template: str = ""
    ) -> str:
        template = template or self.template
        named = {f for _, f, _, _ in string.Formatter().parse(template) if f}
        values = {s: answers.get(s, "").strip() for s in named}
        values[SUBJECT] = subject
        text = template.format(**values)
        # An answer to a step the style does not name at all (a step added to wizard.toml
        # after the style was written) still reaches the picture: it goes at the end. (A
        # reference_template that leaves out a slot its template names leaves it out.)
        extra = [
            v.strip()
            for k, v in answers.items()
            if k not in named and k not in self.slots and v.strip()
        ]
        if extra:
            text = ", ".join([text, *extra])
        # A slot left empty leaves ", ," behind: tidy it.
        parts = [p.strip() for p in text.split(",")]
        return ", ".join(p for p in parts if p)

    def compose_reference(
        self, answers: dict[str, str], wording: Wording, described: str = ""
    ) -> str:
        """The order worded for a model that sees the person's photos (FLUX.2 [klein]).

        A described subject does not replace the reference wording (the photos say who
        it is): it follows it in brackets, "the person in the reference images (a woman
        in her 40s with curly red hair)"."""
        subject = reference_subject(wording, described)
        if self.reference_template:
            return self.compose(answers, subject, self.reference_template)
        text = self.compose(answers, subject)
        return f"{text}, {wording.suffix}" if wording.suffix else text


@dataclass(frozen=True)
class Wording:
    """How a kind of model is addressed: who {subject} is, and what to add at the end."""

    subject: str
    suffix: str = ""


def reference_subject(wording: Wording, described: str = "") -> str:
    """{subject} for FLUX.2 [klein]: the reference wording, the description in brackets."""
    described = described.strip()
    return f"{wording.subject} ({described})" if described else wording.subject


DEFAULT_WORDINGS = {
    "text_to_image": Wording(DEFAULT_SUBJECT),
    "reference": Wording(
        "the person in the reference images",
        "keep the same face, facial features, skin tone and hair as in the reference images",
    ),
    # A pet's portrait (GenerateRequest.subject cat or dog): ``<kind>_<species>``.
    "text_to_image_cat": Wording("a cat"),
    "text_to_image_dog": Wording("a dog"),
    "reference_cat": Wording(
        "the cat in the reference images",
        "keep its markings, coat colour and eye colour as in the reference images",
    ),
    "reference_dog": Wording(
        "the dog in the reference images",
        "keep its markings, coat colour and eye colour as in the reference images",
    ),
}


def wording_key(kind: str, pet: str = "") -> str:
    """The families.toml table for ``kind`` (text_to_image, reference) and a pet's species
    ("" or "person": a person's)."""
    return f"{kind}_{pet}" if pet and pet != "person" else kind


@dataclass
class PromptLibrary:
    styles: dict[str, Style]
    steps: tuple[WizardStep, ...]  # the slot steps (prompt words)
    folder: Path = field(default=PROMPTS_DIR)
    wordings: dict[str, Wording] = field(default_factory=lambda: dict(DEFAULT_WORDINGS))
    all_steps: tuple[WizardStep, ...] = ()  # every step of wizard.toml in order, any kind

    @property
    def wizard_steps(self) -> tuple[WizardStep, ...]:
        """The wizard's questions after the style, in wizard.toml's order."""
        return self.all_steps or self.steps

    def kind_step(self, kind: str) -> WizardStep | None:
        """The subject or format step, if wizard.toml has one."""
        return next((s for s in self.wizard_steps if s.kind == kind), None)

    @property
    def reference_wording(self) -> Wording:
        return self.wordings["reference"]

    def subject(self, described: str = "", pet: str = "") -> str:
        """{subject} for the text-to-image models: the description, else the plain one
        (a pet's: "a cat", "a dog")."""
        return described.strip() or self.wordings[wording_key("text_to_image", pet)].subject

    def reference_prompt(
        self, style_key: str, answers: dict[str, str], described: str = "", pet: str = ""
    ) -> str:
        """The order for a model that sees the photos: the person's, or with ``pet`` (cat,
        dog) the animal's ("the cat in the reference images ..., keep its markings ...")."""
        wording = self.wordings[wording_key("reference", pet)]
        return self.style(style_key).compose_reference(answers, wording, described)

    @classmethod
    def load(cls, folder: Path = PROMPTS_DIR) -> PromptLibrary:
        folder = Path(folder)
        style_dir = folder / "styles"
        if not style_dir.is_dir():
            raise PromptError(f"{style_dir}: no styles folder (expected prompts/styles/*.toml)")
        all_steps = load_wizard(folder / "wizard.toml")
        steps = tuple(s for s in all_steps if s.kind == SLOT)
        known = KNOWN_SLOTS | {s.slot for s in steps}
        styles: dict[str, Style] = {}
        for path in sorted(style_dir.glob("*.toml")):
            style = _load_style(path, known)
            styles[style.key] = style
        if not styles:
            raise PromptError(f"{style_dir}: no styles (*.toml) found")
        _check_steps_cover(folder / "wizard.toml", steps, styles)
        wordings = _load_wordings(folder / "families.toml")
        described = any(s.kind == SUBJECT_STEP for s in all_steps)
        for key in (k for k in wordings if k.startswith("reference")):
            _check_reference_length(styles, steps, wordings[key], described)
        return cls(
            styles=styles, steps=steps, folder=folder, wordings=wordings, all_steps=all_steps
        )

    def style(self, key: str) -> Style:
        try:
            return self.styles[key]
        except KeyError:
            known = ", ".join(sorted(self.styles))
            raise PromptError(f"unknown style {key!r}; known styles: {known}") from None

    def find_style(self, text: str) -> Style | None:
        """A style by key or name as typed: any case and spacing, ``&`` for and, British
        or American spelling ("Watercolour", "water color", "black & white", "pop-art")."""
        t = _spelling(text)
        for s in self.styles.values():
            if t in (_spelling(s.name), _spelling(s.key)):
                return s
        return None

    def step(self, slot: str) -> WizardStep:
        for s in self.steps:
            if s.slot == slot:
                return s
        raise KeyError(slot)


# British -> American, for matching typed style names (the product writes "colour").
_SPELLINGS = (("colour", "color"), ("grey", "gray"), ("centre", "center"), ("theatre", "theater"))


def _spelling(text: str) -> str:
    t = text.lower().replace("_", " ").replace("-", " ").replace("&", " and ")
    for british, american in _SPELLINGS:
        t = t.replace(british, american)
    return "".join(t.split())


def _load_style(path: Path, known: frozenset[str] = KNOWN_SLOTS) -> Style:
    data = _read_toml(path)
    key = path.stem
    if not key.replace("_", "").isalnum() or not key.islower():
        raise PromptError(f"{path}: style file names are lower_snake_case")
    unknown = set(data) - {
        "name",
        "description",
        "template",
        "reference_template",
        "negative",
        "params",
        "likeness",
        "pets",
    }
    if unknown:
        raise PromptError(f"{path}: unknown keys {sorted(unknown)}")
    template = _text(path, data, "template")
    fields = _template_slots(path, template, "template", known)
    reference = _text(path, data, "reference_template", required=False)
    if "reference_template" in data:
        _template_slots(path, reference, "reference_template", known)
    params = data.get("params", {})
    if not isinstance(params, dict) or set(params) - _PARAM_KEYS:
        raise PromptError(f"{path}: [params] takes only {sorted(_PARAM_KEYS)}")
    try:
        gp = GenerationParams(**params)
    except Exception as exc:
        raise PromptError(f"{path}: bad [params]: {exc}") from None
    return Style(
        key=key,
        name=_text(path, data, "name"),
        description=_text(path, data, "description", required=False),
        template=template,
        negative=_text(path, data, "negative", required=False),
        params=gp,
        slots=frozenset(fields),
        reference_template=reference,
        likeness=_load_likeness(path, data.get("likeness")),
        pets=_pets(path, data.get("pets", False)),
    )


def _pets(path: Path, raw: Any) -> bool:
    """``pets = true``: the style suits a pet's portrait (a boolean, nothing else)."""
    if not isinstance(raw, bool):
        raise PromptError(f"{path}: pets must be true or false, got {raw!r}")
    return raw


def _template_slots(
    path: Path, template: str, key: str, known: frozenset[str] = KNOWN_SLOTS
) -> list[str]:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise PromptError(f"{path}: {key} is malformed: {exc}") from None
    bad = [f for f in fields if f not in known]
    if bad:
        raise PromptError(
            f"{path}: unknown slot(s) {', '.join('{' + b + '}' for b in bad)} in {key}; "
            f"known slots: {', '.join('{' + s + '}' for s in sorted(known))}"
        )
    if SUBJECT not in fields:
        raise PromptError(f"{path}: the {key} must contain {{subject}}")
    return fields


def _load_wordings(path: Path) -> dict[str, Wording]:
    """prompts/families.toml; the built-in wording when the file is absent."""
    if not path.is_file():
        return dict(DEFAULT_WORDINGS)
    data = _read_toml(path)
    unknown = set(data) - set(DEFAULT_WORDINGS)
    if unknown:
        raise PromptError(
            f"{path}: unknown tables {sorted(unknown)}; known: {sorted(DEFAULT_WORDINGS)}"
        )
    out = dict(DEFAULT_WORDINGS)
    for kind, table in data.items():
        if not isinstance(table, dict) or set(table) - {"subject", "suffix"}:
            raise PromptError(f"{path}: [{kind}] takes only subject and suffix")
        out[kind] = Wording(_text(path, table, "subject"), _text(path, table, "suffix", False))
    return out


def _check_steps_cover(path: Path, steps: tuple[WizardStep, ...], styles: dict[str, Style]) -> None:
    """Every slot a style names is asked by a step (a step no style names is fine: its
    answer goes at the end of the prompt)."""
    asked = {s.slot for s in steps}
    for style in styles.values():
        missing = sorted(style.slots - asked - {SUBJECT})
        if not missing:
            continue
        named = set().union(*(s.slots for s in styles.values()))
        odd = [(i, s.slot) for i, s in enumerate(steps, 1) if s.slot not in named]
        need = ", ".join("{" + m + "}" for m in missing)
        if odd:
            i, slot = odd[0]
            raise PromptError(
                f"{path}: step {i}: unknown slot {slot!r} (no style names it), and no step "
                f"asks for {need}, which {style.key}.toml uses"
            )
        raise PromptError(f"{path}: no step asks for {need}, which {style.key}.toml uses")


def _check_reference_length(
    styles: dict[str, Style],
    steps: tuple[WizardStep, ...],
    wording: Wording,
    described: bool = False,
) -> None:
    """Every style with the longest presets (and, with a subject step, the longest
    description it takes) must fit FLUX.2 [klein] for sure."""
    longest = {s.slot: max((p.value for p in s.presets), key=len) for s in steps}
    subject = "x" * SUBJECT_MAX_BYTES if described else ""
    for style in styles.values():
        text = style.compose_reference(longest, wording, subject)
        n = len(text.encode("utf-8"))
        if n > REFERENCE_PROMPT_SAFE_BYTES:
            with_subject = " and the longest description" if described else ""
            raise PromptError(
                f"{style.key}: its reference prompt with the longest presets{with_subject} "
                f"is {n} bytes; "
                f"keep it under {REFERENCE_PROMPT_SAFE_BYTES} so it fits FLUX.2 [klein]'s "
                "512 tokens (shorten the template or the presets)"
            )


def _load_likeness(path: Path, raw: Any) -> LikenessGate:
    """The style's ``[likeness]`` table: kind, policy and (for lenient or off) reason."""
    kinds = ", ".join(k.value for k in StyleKind)
    policies = ", ".join(p.value for p in GatePolicy)
    if not isinstance(raw, dict):
        raise PromptError(f"{path}: needs a [likeness] table with kind ({kinds}) and policy")
    unknown = set(raw) - {"kind", "policy", "reason"}
    if unknown:
        raise PromptError(
            f"{path}: [likeness] takes kind, policy and reason, not {sorted(unknown)}"
        )
    kind, policy = raw.get("kind"), raw.get("policy", GatePolicy.THRESHOLD.value)
    if kind not in {k.value for k in StyleKind}:
        raise PromptError(f"{path}: [likeness] kind must be one of {kinds}, got {kind!r}")
    if policy not in {p.value for p in GatePolicy}:
        raise PromptError(f"{path}: [likeness] policy must be one of {policies}, got {policy!r}")
    reason = raw.get("reason", "")
    if not isinstance(reason, str):
        raise PromptError(f"{path}: [likeness] reason must be a string")
    if policy != GatePolicy.THRESHOLD and not reason.strip():
        raise PromptError(
            f"{path}: [likeness] policy {policy!r} needs a reason (why not a threshold)"
        )
    return LikenessGate(kind=StyleKind(kind), policy=GatePolicy(policy), reason=reason.strip())
