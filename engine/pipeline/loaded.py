"""What a loaded pipeline is: the types the pipeline modules share, and nothing they import.

:class:`LoadedPipeline` (the diffusers pipeline with its family, defaults, precision and
identity adapter), the speed switches applied to it (:class:`Speedups`, kept as its
``speed`` field: engine/pipeline/speed.py and klein_speed.py set it, the render path
reads it), and one render's resolved parameters (:class:`Resolved`). A leaf module: the
loader, the render path, the face detail pass and the speed switches all import it, and
it imports none of them, so they need not import each other for their types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sitter.config import ConfigError, Settings

if TYPE_CHECKING:
    from engine.families.base import Family
    from engine.pipeline.adapter import AdapterSpec

# The model families by code, filled by engine/families/ as it is imported (this leaf
# module imports no family at import time: they import it).
FAMILY_OBJECTS: dict[str, Family] = {}


class Cancelled(Exception):
    """The job was cancelled (time limit or shutdown) while rendering."""


@dataclass(frozen=True)
class Defaults:
    """Generation defaults for a model family; a style's params override them."""

    steps: int
    guidance: float
    width: int
    height: int
    identity_scale: float


@dataclass(frozen=True)
class Resolved:
    """Generation parameters after the family defaults are applied."""

    steps: int
    guidance: float
    width: int
    height: int
    identity_scale: float


@dataclass(frozen=True)
class Optimisations:
    """Precision, attention and memory layout; per device."""

    dtype: Any  # torch.dtype
    sdpa: bool = True  # PyTorch scaled-dot-product attention processors
    channels_last: bool = False  # UNet/VAE memory format (helps on CUDA)

    @classmethod
    def for_device(cls, device: str, settings: Settings | None = None) -> Optimisations:
        import torch

        wanted = settings.dtype if settings else "auto"
        if wanted in ("", "auto"):
            if device.startswith("cuda"):
                bf16 = torch.cuda.is_bf16_supported()
                dtype = torch.bfloat16 if bf16 else torch.float16
            else:
                dtype = torch.float32
        else:
            named = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
            if wanted not in named:
                raise ConfigError(
                    f"SITTER_DTYPE={wanted!r}: use auto, float32, float16 or bfloat16"
                )
            dtype = named[wanted]
        on_cuda = device.startswith("cuda")
        return cls(
            dtype=dtype,
            channels_last=on_cuda,
        )

    def apply(self, pipe: Any) -> None:
        import torch
        from diffusers.models.attention_processor import AttnProcessor2_0

        if self.sdpa:
            # IP-Adapter processors already use SDPA; only replace the plain ones.
            procs = {
                name: (proc if "IPAdapter" in type(proc).__name__ else AttnProcessor2_0())
                for name, proc in pipe.unet.attn_processors.items()
            }
            pipe.unet.set_attn_processor(procs)
        if self.channels_last:
            pipe.unet.to(memory_format=torch.channels_last)
            pipe.vae.to(memory_format=torch.channels_last)

    def describe(self) -> str:
        flags = [str(self.dtype).removeprefix("torch.")]
        flags += [n for n in ("sdpa", "channels_last") if getattr(self, n)]
        return "+".join(flags)


@dataclass
class Speedups:
    """What the speed switches did to one pipeline (``LoadedPipeline.speed``)."""

    device: str
    dtype: Any
    applied: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    fast_path: bool = False  # every order renders the fast path (distilled model)
    compiled: bool = False
    schedulers: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return "+".join(self.applied) or "none"


@dataclass
class LoadedPipeline:
    pipe: Any
    family: str  # the family's code (engine/families/): sdxl, sd15, klein, qwen-edit
    model: str  # as configured
    tiny: bool
    device: str
    opts: Optimisations
    defaults: Defaults
    adapter: AdapterSpec
    extra: dict[str, Any] = field(default_factory=dict)
    # The speed switches applied (engine.pipeline.speed.apply_speedups); None: none were.
    speed: Speedups | None = None

    @property
    def model_family(self) -> Family:
        """The family object that renders with this pipeline (a family's ``load`` made
        it, so engine/families/ has filled the table)."""
        try:
            return FAMILY_OBJECTS[self.family]
        except KeyError:
            raise LookupError(
                f"no model family {self.family!r}: import engine.families first"
            ) from None

    @property
    def id_dim(self) -> int:
        return self.adapter.id_dim
