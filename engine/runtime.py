"""The worker's loaded models, created once at start-up and shared by all jobs.

A :class:`Runtime` holds the face analyzer, the generation pipeline, the C2PA
signer and the upscaler. Parts load independently so the fast queue (photo
analysis) can serve while the big pipeline is still loading; a generation job
that arrives meanwhile gets :class:`ModelLoading` (the worker retries it later).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.parts import PARTS, ModelLoading, in_load_order
from sitter.config import Settings

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from engine.faces.base import FaceAnalyzer
    from engine.likeness import Likeness
    from engine.pets.models import PetModels
    from engine.pipeline.loaded import LoadedPipeline
    from sitter.contract import Subject

__all__ = ["PARTS", "ModelLoading", "Runtime", "load_analyzer"]  # ModelLoading's old home

log = logging.getLogger(__name__)


def load_analyzer(settings: Settings) -> FaceAnalyzer:
    """The configured face backend (engine/faces)."""
    from engine.faces import load_analyzer as faces_load_analyzer

    return faces_load_analyzer(settings)


@dataclass
class Runtime:
    settings: Settings
    analyzer: FaceAnalyzer | None = None
    pipeline: LoadedPipeline | None = None
    signer: Any = None  # engine.signing.C2paCredentials
    upscaler: Any = None
    safety: Any = None  # engine.safety_check.Classifier
    text_screen: Any = None  # engine.text_screen.TextScreen (None too when configured off)
    pets: PetModels | None = None  # the animal detector and embedder (engine/pets/)
    # One pipeline object is not safe to call from two threads at once.
    gpu_lock: threading.Lock = field(default_factory=threading.Lock)
    load_seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, BaseException] = field(default_factory=dict)
    _loading: set[str] = field(default_factory=set)

    # --- loading -------------------------------------------------------------------
    def load(self, parts: tuple[str, ...] = PARTS, warm_up: bool = True) -> Runtime:
        """Load ``parts`` (blocking; call it in a thread from async code).

        First of all, the configuration must pass ``SITTER_LICENCE`` (engine.licences).
        """
        from engine.licences import enforce

        enforce(self.settings)
        parts = in_load_order(parts)
        self._loading.update(parts)
        for part in parts:
            started = time.perf_counter()
            try:
                getattr(self, f"_load_{part}")()
            except Exception as exc:
                self.errors[part] = exc
                self._loading.discard(part)
                raise
            self._loading.discard(part)
            self.load_seconds[part] = round(time.perf_counter() - started, 3)
            log.info("loaded %s in %.2fs", part, self.load_seconds[part])
        if "screen" in parts and self.text_screen is not None:
            started = time.perf_counter()
            self.text_screen.judge({"text": "a navy suit"})  # the first answer is not slow
            self.load_seconds["screen_warm_up"] = round(time.perf_counter() - started, 3)
        if warm_up and "pipeline" in parts:
            started = time.perf_counter()
            self.warm_up()
            self.load_seconds["warm_up"] = round(time.perf_counter() - started, 3)
        return self

    def _load_faces(self) -> None:
        self.analyzer = load_analyzer(self.settings)

    def _load_pipeline(self) -> None:
        from engine.pipeline.loader import load_pipeline

        self.pipeline = load_pipeline(self.settings)

    def _load_text(self) -> None:
        """The tokenizer the check_prompt job counts with (FLUX.2 [klein] only; else nothing)."""
        from engine.prompt_check import preload

        preload(self.settings)

    def _load_signer(self) -> None:
        from engine.signing import load_signer

        self.signer = load_signer(self.settings)

    def _load_upscaler(self) -> None:
        from engine.upscale import load_upscaler

        self.upscaler = load_upscaler(self.settings)

    def _load_safety(self) -> None:
        from engine.safety_check import load_classifier

        self.safety = load_classifier()

    def _load_pets(self) -> None:
        from engine.pets.models import load_pet_models

        self.pets = load_pet_models(self.settings)

    def _load_screen(self) -> None:
        from engine.text_screen import load_text_screen

        self.text_screen = load_text_screen(self.settings)

    def warm_up(self) -> None:
        """Compile at the production shapes, or one 1-step render, so the first real
        job does not pay for lazy init (engine.pipeline.generate.warm_up)."""
        from engine.pipeline.generate import warm_up

        loaded = self.require_pipeline()
        with self.gpu_lock:
            warm_up(loaded)

    # --- access ----------------------------------------------------------------------
    def _require(self, part: str, value: Any) -> Any:
        if value is not None:
            return value
        if part in self.errors:
            raise RuntimeError(f"{part} failed to load: {self.errors[part]}")
        if part in self._loading:
            raise ModelLoading(f"{part} is still loading")
        raise RuntimeError(f"{part} is not loaded in this worker")

    def require_pipeline(self) -> LoadedPipeline:
        return self._require("pipeline", self.pipeline)

    def require_analyzer(self) -> FaceAnalyzer:
        return self._require("faces", self.analyzer)

    def require_pets(self) -> PetModels:
        """The pet models; loaded here on the first pet job when the worker did not list
        them (a worker without pet weights serves people as before). Missing weights fail
        the job as not_available, saying to run ``sitter models fetch``."""
        from engine.job_errors import FailureCode, Permanent

        if self.pets is None and "pets" not in self._loading:
            try:
                self.load(("pets",))
            except (OSError, ValueError) as exc:
                self.errors.pop("pets", None)  # fetched later, the next pet job loads them
                raise Permanent(FailureCode.NOT_AVAILABLE, f"pet models: {exc}") from None
        return self._require("pets", self.pets)

    def subject_analyzer(self, subject: Subject, heads: bool = False) -> FaceAnalyzer:
        """Who the order is about, as a face analyzer: the face backend for a person, the
        pet analyzer of that species for a cat or a dog (engine/pets/analyzer.py; with
        ``heads``, its "faces" are the animals' heads: the avatar's centre)."""
        from sitter.contract import Subject

        if subject == Subject.PERSON:
            return self.require_analyzer()
        from engine.pets.analyzer import PetAnalyzer

        return PetAnalyzer(self.require_pets(), subject, heads=heads)

    def require_signer(self) -> Any:
        return self._require("signer", self.signer)

    def require_safety(self) -> Any:
        """The safety classifier; loaded here on first use when the worker did not
        list it (it is small: 22 MB, a fraction of a second)."""
        if self.safety is None and "safety" not in self._loading and "safety" not in self.errors:
            self._load_safety()
        return self._require("safety", self.safety)

    def require_text_screen(self) -> Any:
        """The semantic screen of typed answers (None: ``SITTER_TEXT_SCREEN_MODEL=off``);
        loaded here on first use when the worker did not list it."""
        if "screen" in self.errors:
            raise RuntimeError(f"screen failed to load: {self.errors['screen']}")
        if "screen" in self._loading:
            raise ModelLoading("screen is still loading")
        if "screen" not in self.load_seconds:
            self.load(("screen",))
        return self.text_screen

    def safety_screen(self, kind: str = "generate") -> Any:
        """The safety check for one order's variation loop (engine/safety_check.py)."""
        from engine.safety_check import Policy, Screen

        return Screen(self.require_safety(), Policy.from_settings(self.settings), kind)

    def score(self, image: Image.Image, refs: np.ndarray) -> Likeness:
        from engine.likeness import score_image

        return score_image(self.require_analyzer(), image, refs)

    def mark_ai(self, png: bytes, *, model: str, seed: int) -> bytes:
        """THE provenance call site: every generated PNG passes through here.

        engine.provenance adds IPTC ``trainedAlgorithmicMedia`` XMP, a PNG text
        note and a signed C2PA manifest.
        """
        from engine.provenance import add_provenance

        return add_provenance(png, model=model, seed=seed, signer=self.require_signer())
