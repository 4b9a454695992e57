"""A pet's portrait order: the likeness gate's policy and the coat colour check.

The gate is a person's (engine/gate.py) over :class:`engine.pets.analyzer.PetAnalyzer`;
its policy is held at ``lenient`` (a style's ``threshold`` included) until
``benchmarks/eval_likeness.py --pets`` has calibrated the pet embedding's bars on a GPU
box with real weights: only a copy of a photo or a clearly different animal is rendered
again. A style whose gate is ``off`` stays off.

Each output whose animal the gate found also gets the colour check
(engine/pets/colour.py) against the reference crops; a drifted coat is rendered again
like a miss, with the verdict ``colour_drift`` (not under ``off``: reported only).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from engine.gate import PersonGate
from engine.likeness import Likeness
from engine.pets.colour import colour_check
from sitter.contract import GatePolicy, LikenessGate, Verdict

PET_GATE_REASON = (
    "pets: the DINOv2 likeness bars are not calibrated yet (benchmarks/eval_likeness.py "
    "--pets on a GPU box with real weights); only a copy or a clearly different animal is "
    "rendered again"
)


def pet_policy(gate: LikenessGate) -> LikenessGate:
    """The style's gate for a pet: lenient (with the reason) unless it is off."""
    if gate.policy == GatePolicy.OFF:
        return gate
    return LikenessGate(kind=gate.kind, policy=GatePolicy.LENIENT, reason=PET_GATE_REASON)


@dataclass
class PetOrder:
    """Judges a pet portrait: the gate, then the colours of the animal it found."""

    gate: PersonGate
    references: Sequence[Image.Image]  # the animal's crops the model was given

    def judge(self, image: Image.Image) -> Likeness:
        lk = self.gate.judge(image)
        if not lk.face_found or lk.box is None:
            return lk  # no animal found: lenient delivers it unchecked, as for a drawn face
        colour = colour_check(image.convert("RGB"), lk.box, self.references)
        lk = dataclasses.replace(lk, colour=colour)
        if colour.passed or not lk.passed or self.gate.policy.policy == GatePolicy.OFF:
            return lk
        return dataclasses.replace(lk, passed=False, verdict=Verdict.COLOUR_DRIFT)
