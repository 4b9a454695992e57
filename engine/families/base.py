"""What every model family answers: the one interface the rest of the engine talks to.

A family (SDXL, SD 1.5, FLUX.2 [klein], Qwen-Image-Edit ...) is one module under
``engine/families/`` with one object implementing :class:`Family`; nothing outside this
folder asks *which* family it is. Shared pieces are helpers the families call
(engine/pipeline/*), as diffusers keeps pipelines apart and shares components.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from PIL import Image

from engine import progress
from engine.families.grids import Grid, size_on
from engine.families.inputs import Draw as Draw
from engine.families.inputs import OrderInputs as OrderInputs
from engine.pipeline.loaded import Cancelled, Defaults, LoadedPipeline

if TYPE_CHECKING:
    from engine.licence_registry import Part
    from engine.model_entry import Entry
    from engine.pipeline.adapter import AdapterFiles, AdapterSpec
    from engine.pipeline.loaded import Optimisations
    from engine.training.base import Trainer
    from sitter import contract as c
    from sitter.config import Settings

# The tiny offline models: a 64 px square on a grid of 8 (engine/formats.py's "tiny" row).
TINY_GRID = (64, 8)
TINY_MAX_SIDE = 128
TINY_MAX_STEPS = 8  # a bot wired to a tiny model answers in seconds

# A pipeline step callback (``callback_on_step_end``): the cancel check and progress.
StepCallback = Callable[[Any, int, Any, dict[str, Any]], dict[str, Any]]


class Family(ABC):
    """One model family. Class attributes describe it; methods do its work."""

    name: ClassVar[str]  # a code: logs, model folders, the check_prompt answer
    title: ClassVar[str]  # words for people ("FLUX.2 [klein]")
    class_names: ClassVar[tuple[str, ...]]  # model_index.json ``_class_name`` it loads
    hub_prefixes: ClassVar[tuple[str, ...]] = ()  # repos recognised without their index
    tiny_models: ClassVar[tuple[str, ...]] = ()  # SITTER_MODEL names of its tiny models
    tiny_version: ClassVar[int] = 1  # bump when the tiny architecture changes
    takes_references: ClassVar[bool] = False  # identity from the person's photos
    # Renders a cat's or a dog's portrait from the animal's crops (GenerateRequest.subject);
    # the order's reference prompt names the animal (prompts/families.toml).
    renders_pets: ClassVar[bool] = False
    img2img_class: ClassVar[str]  # the diffusers pipeline for vary/relight/detail

    # --- recognising and loading -------------------------------------------------------
    def recognises(self, class_name: str) -> bool:
        return class_name in self.class_names

    @abstractmethod
    def defaults(self, tiny: bool) -> Defaults:
        """Steps, guidance, size and identity scale when a style says nothing."""

    @abstractmethod
    def build_tiny(self, model: str, folder: Path) -> None:
        """Write the tiny offline model ``model`` into ``folder`` (the real layout)."""

    @abstractmethod
    def load(
        self, settings: Settings, device: str, opts: Optimisations, ref: str, local: bool
    ) -> LoadedPipeline:
        """The pipeline from ``ref`` (a folder, or a hub id in the cache) with its
        identity path, on ``device``; the speed switches are applied after."""

    @abstractmethod
    def apply_speedups(self, loaded: LoadedPipeline, settings: Settings) -> None:
        """The family's speed switches; records them as ``loaded.speed``."""

    # --- sizes ---------------------------------------------------------------------------
    max_side_real: ClassVar[int] = 1536  # larger requests get the default size instead

    def max_side(self, tiny: bool) -> int:
        return TINY_MAX_SIDE if tiny else self.max_side_real

    @abstractmethod
    def grid(self) -> Grid:
        """The real model's formats: trained buckets, or (side, multiple) (engine/formats.py)."""

    def size_for(self, aspect: c.Aspect, tiny: bool) -> tuple[int, int]:
        return size_on(TINY_GRID if tiny else self.grid(), aspect)

    def steps_and_guidance(
        self, loaded: LoadedPipeline, steps: int, guidance: float | None
    ) -> tuple[int, float]:
        """The steps and guidance this family renders with for a style's ask."""
        return steps, loaded.defaults.guidance if guidance is None else guidance

    # --- an order -------------------------------------------------------------------------
    def order_prompt(self, prompt: str, reference_prompt: str) -> str:
        """The wording of the order this family reads (prompts/families.toml)."""
        return (reference_prompt or prompt) if self.takes_references else prompt

    def together_prompt(
        self,
        prompt: str,
        reference_prompt: str,
        placement: c.Placement | None,
        counts: tuple[int, int] | None = None,
    ) -> str:
        """The order worded for two people (engine/families/together.py); ``counts``: how
        many of each person's photos a reference family shows the model (None: as many
        as it takes for each)."""
        from engine.families.together import text_pair_prompt

        return text_pair_prompt(self.order_prompt(prompt, reference_prompt), placement)

    def prepare(self, loaded: LoadedPipeline, req: c.GenerateRequest) -> OrderInputs:
        """Before any GPU time: the prompt fits, the person's photos are ready."""
        if req.partner_references:
            return OrderInputs(
                self.together_prompt(req.prompt, req.reference_prompt, req.placement)
            )
        return OrderInputs(self.order_prompt(req.prompt, req.reference_prompt))

    def warm_up_inputs(self, loaded: LoadedPipeline, full: bool) -> list[Image.Image]:
        """Reference images for the warm-up: an order's full set (``full``, the compiled
        warm-up's shapes) or the fewest it renders with (none here)."""
        return []

    @abstractmethod
    def render(
        self, loaded: LoadedPipeline, draw: Draw, on_step: StepCallback
    ) -> list[Image.Image]:
        """Text (and references) to images: one per seed."""

    @abstractmethod
    def render_from(
        self,
        loaded: LoadedPipeline,
        draw: Draw,
        start: Image.Image,
        strength: float,
        on_step: StepCallback,
    ) -> list[Image.Image]:
        """Image to image (vary, relight): ``start`` noised to ``strength``, per seed,
        with as many denoising steps as the order had
        (:func:`engine.pipeline.img2img.refine_steps`)."""

    @abstractmethod
    def render_crops(
        self,
        loaded: LoadedPipeline,
        draw: Draw,
        images: Sequence[Image.Image],
        strength: float,
        steps: int,
        on_step: StepCallback,
    ) -> list[Image.Image]:
        """The face detail pass: each crop re-rendered at ``strength`` (its seed in
        ``draw.seeds``, already salted for the detail pass)."""

    def relight_prompts(self, prompt: str, reference_prompt: str, light: str) -> tuple[str, str]:
        """(prompt, reference_prompt) for relighting a portrait to ``light``."""
        return f"{light}, {prompt}", reference_prompt

    # --- prompt limits ----------------------------------------------------------------------
    limits_prompt: ClassVar[bool] = False  # its text encoder cuts long prompts

    def prompt_limit(
        self, settings: Settings, folder: Path | None, ref: str
    ) -> tuple[Callable[[str], int], int] | None:
        """(count tokens, limit) when the text encoder cuts prompts (the model's files:
        ``folder``, or ``ref`` in the cache); None: any length, or not on this machine."""
        return None

    # --- licences and files ------------------------------------------------------------------
    @abstractmethod
    def identity_parts(self, settings: Settings) -> list[Part]:
        """The licensed parts that carry the likeness (the base model is separate)."""

    def adapter_files_for(self, kind: str) -> AdapterFiles | None:
        """The identity adapter ``kind``'s files for this family; None: it takes none."""
        return None

    @abstractmethod
    def identity_entries(self, settings: Settings) -> list[Entry] | None:
        """``sitter models`` rows for the identity path; None: the identity adapter's
        files (engine/models.py lists those)."""

    # --- personal models (engine/training/) ----------------------------------------------------
    def trainer(self, loaded: LoadedPipeline) -> Trainer:
        """What the shared training loop needs to learn a personal model (a LoRA on this
        family's denoiser); a family that cannot raises :class:`NotTrainable`."""
        from engine.training.base import NotTrainable

        raise NotTrainable(self.title)


def pipeline_kwargs(opts: Optimisations, settings: Settings, local: bool) -> dict[str, Any]:
    """``from_pretrained`` keywords: the dtype, and the cache (offline) for a hub id."""
    kwargs: dict[str, Any] = {"dtype": opts.dtype}
    if not local:
        kwargs.update(cache_dir=settings.models_dir, local_files_only=True)
    return kwargs


# The relight wording for a family that edits the portrait beside the person's photos.
REFERENCE_RELIGHT = (
    "The same portrait of the person in the reference images, relit with {light}. "
    "Keep their face, expression, pose, hair, clothes, framing and background as they "
    "are; change only the light."
)


class ReferenceFamily(Family):
    """A family that sees the person's own photos as input images (no adapter): the
    photos are chosen and prepared by engine/pipeline/klein.py's helpers, the prompt is
    the order's reference wording."""

    takes_references = True
    renders_pets = True  # the model sees the animal's crops as it sees a person's photos
    max_references: ClassVar[int]  # input images the model is trained for, in all

    def reference_spec(self, settings: Settings, ref: str, name: str) -> AdapterSpec:
        """The identity record of a family that takes the person's photos (no weights)."""
        from engine.pipeline.adapter import AdapterSpec, id_dim_for

        return AdapterSpec(
            kind="reference-images",
            source=ref,
            subfolder="",
            weight_name="",
            encoder_source="",
            encoder_subfolder="",
            id_dim=id_dim_for(settings.face_backend),
            trained=True,
            name=f"reference images ({name})",
            licence_name="reference-images",
        )

    def reference_side(self, loaded: LoadedPipeline) -> int:
        from engine.pipeline import klein

        return klein.reference_side(loaded)

    def check_order_prompt(self, loaded: LoadedPipeline, prompt: str) -> None:
        """Raise ValueError when the prompt cannot be read whole (default: any length)."""

    # How the prompt names its input images (engine/families/together.py: "reference
    # images 1 and 2 show the first person").
    image_noun: ClassVar[tuple[str, str]] = ("reference image", "reference images")

    def together_prompt(
        self,
        prompt: str,
        reference_prompt: str,
        placement: c.Placement | None,
        counts: tuple[int, int] | None = None,
    ) -> str:
        from engine.families.together import reference_pair_prompt

        wording = self.order_prompt(prompt, reference_prompt)
        each = self.references_each()
        return reference_pair_prompt(wording, counts or (each, each), placement, self.image_noun)

    def references_each(self) -> int:
        """Input images per person in a portrait of two: half of what the model takes."""
        return max(1, self.max_references // 2)

    def prepare(self, loaded: LoadedPipeline, req: c.GenerateRequest) -> OrderInputs:
        from engine.pipeline import klein

        if req.partner_references:
            return self._prepare_two(loaded, req)
        prompt = self.order_prompt(req.prompt, req.reference_prompt)
        self.check_order_prompt(loaded, prompt)
        images = klein.reference_images(loaded, req.references, self.max_references)
        return OrderInputs(prompt, images, self.latents_cache())

    def _prepare_two(self, loaded: LoadedPipeline, req: c.GenerateRequest) -> OrderInputs:
        """Two people: half the input images each, the first person's first, and the
        prompt naming them in that order."""
        from engine.pipeline import klein
        from engine.pipeline.identity_input import MissingFaceCrops

        each = self.references_each()
        first = klein.reference_images(loaded, req.references, each)
        second = klein.reference_images(loaded, req.partner_references, each)
        if not first or not second:
            raise MissingFaceCrops(
                "a portrait of two people needs face crops of both people's photos: "
                "analyse the photos again with this version"
            )
        prompt = self.together_prompt(
            req.prompt, req.reference_prompt, req.placement, (len(first), len(second))
        )
        self.check_order_prompt(loaded, prompt)
        counts = (len(first), len(second))
        return OrderInputs(prompt, [*first, *second], self.latents_cache(), counts)

    def edit_references(
        self, draw: Draw, room: int, first_number: int
    ) -> tuple[list[Image.Image], str]:
        """(the photos beside an edited image, the prompt) for image-to-image: ``room``
        photos at most; two people: as many of each, the prompt numbering them from
        ``first_number`` (the model's own count of its input images)."""
        from engine.families.together import renumber

        images = list(draw.ref_images)
        if len(draw.ref_counts) != 2:
            return images[:room], draw.prompt
        n_first, n_second = draw.ref_counts
        each = max(1, room // 2)
        kept = (min(each, n_first), min(each, n_second))
        chosen = [*images[: kept[0]], *images[n_first : n_first + kept[1]]]
        prompt = renumber(draw.prompt, draw.ref_counts, kept, self.image_noun, first_number)
        return chosen, prompt

    def latents_cache(self) -> Any:
        """The order's cache of its pictures' VAE latents (engine.pipeline.klein's)."""
        from engine.pipeline import klein

        return klein.ReferenceLatents()

    min_references: ClassVar[int] = 0  # a family that cannot render without any says so

    def warm_up_inputs(self, loaded: LoadedPipeline, full: bool) -> list[Image.Image]:
        side = self.reference_side(loaded)
        count = self.max_references if full else self.min_references
        return [Image.new("RGB", (side, side), (128, 128, 128))] * count

    def relight_prompts(self, prompt: str, reference_prompt: str, light: str) -> tuple[str, str]:
        return prompt, REFERENCE_RELIGHT.format(light=light)

    def identity_parts(self, settings: Settings) -> list[Part]:
        from engine.licence_registry import PARTS

        return [PARTS["reference-images"]]

    def identity_entries(self, settings: Settings) -> list[Entry]:
        from engine.model_entry import Entry

        return [
            Entry(
                "identity",
                f"the person's own photos as reference images ({self.title}, "
                f"up to {self.max_references})",
                "no extra weights",
                True,
                "sent with each order",
                True,
                required=False,
                detail="chosen by sharpness, exposure, face size and angle; aligned, padded crops",
            )
        ]


def step_callback(cancel: threading.Event | None, steps: int, what: str) -> StepCallback:
    """The pipeline's ``callback_on_step_end``: stop when cancelled, report progress."""

    def on_step(_pipe: Any, _step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"{what} cancelled")
        progress.on_step_end(_pipe, _step, steps)  # engine/progress.py, for the bot
        return kwargs

    return on_step
