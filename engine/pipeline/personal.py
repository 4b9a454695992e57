"""A person's own model (a LoRA from the train_personal job) on the shared pipeline, for
one order only.

The LoRA is loaded with ``load_lora_weights`` under a per-order adapter name and kept
off; every render of the order turns it on inside the GPU lock and off again before
the lock is released (:func:`on_gpu`), so a training step or another order rendered in
between never sees it. When the order ends, whichever way, the adapter is deleted:
nothing of the person stays in the worker.

A compiled pipeline (torch.compile) would recompile whenever its LoRA layers change, so
there the LoRA goes into one fixed adapter slot with diffusers' hotswap
(``load_lora_weights(..., hotswap=True)``) and the slot is overwritten with zeros after
the order instead of being deleted. The slot is made by the first personal order (one
recompilation then; preparing it at warm-up with ``enable_lora_hotswap`` before
compiling is not done yet), and a LoRA of another rank than the slot's takes a fresh
slot (a recompilation).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.job_errors import FailureCode, Permanent

if TYPE_CHECKING:
    from engine.parts import Models
    from engine.pipeline.loaded import LoadedPipeline
    from sitter.contract import PersonalModel

HOTSWAP_SLOT = "sitter_personal"  # the one adapter name of a compiled pipeline


@dataclass
class PersonalLora:
    """An order's LoRA, loaded and off."""

    loaded: LoadedPipeline
    name: str
    scale: float
    sha256: str

    def on(self) -> None:
        pipe = self.loaded.pipe
        pipe.enable_lora()
        pipe.set_adapters([self.name], [self.scale])

    def off(self) -> None:
        self.loaded.pipe.disable_lora()


def read_lora(personal: PersonalModel, family: str) -> dict[str, Any]:
    """The LoRA's tensors, checked: its sha256 and the model family it was trained for."""
    from safetensors.torch import load

    if hashlib.sha256(personal.lora).hexdigest() != personal.sha256:
        raise Permanent(FailureCode.BAD_REQUEST, "the personal model does not match its sha256")
    try:
        tensors = load(personal.lora)
        meta = _metadata(personal.lora)
    except Exception as exc:
        why = f"the personal model cannot be read: {exc}"
        raise Permanent(FailureCode.BAD_REQUEST, why) from None
    trained_for = meta.get("sitter_family", family)
    if trained_for != family:
        why = f"the personal model was trained for {trained_for}, this worker runs {family}"
        raise Permanent(FailureCode.BAD_REQUEST, why)
    return tensors


def _metadata(blob: bytes) -> dict[str, str]:
    """The safetensors header's ``__metadata__`` (8-byte length, then JSON)."""
    import json
    import struct

    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    return dict(header.get("__metadata__") or {})


def _compiled(loaded: LoadedPipeline) -> bool:
    return bool(loaded.speed is not None and loaded.speed.compiled)


@contextmanager
def personal_model(
    runtime: Models, personal: PersonalModel | None
) -> Iterator[PersonalLora | None]:
    """The order's LoRA loaded (off) for the ``with`` block, gone after it."""
    if personal is None:
        yield None
        return
    loaded = runtime.require_pipeline()
    state = read_lora(personal, loaded.family)
    pipe = loaded.pipe
    hotswap = _compiled(loaded)
    name = HOTSWAP_SLOT if hotswap else f"personal_{uuid.uuid4().hex[:12]}"
    with runtime.gpu_lock:
        swap = hotswap and HOTSWAP_SLOT in _adapters(pipe)
        try:
            pipe.load_lora_weights(state, adapter_name=name, hotswap=swap)
        except Exception:
            if not swap:
                raise
            # Another rank than the slot's: a fresh slot (the compiled graph recompiles).
            pipe.delete_adapters([name])
            pipe.load_lora_weights(state, adapter_name=name)
        pipe.disable_lora()
    del state
    try:
        yield PersonalLora(loaded, name, personal.scale, personal.sha256)
    finally:
        with runtime.gpu_lock:
            if hotswap:
                _zero_slot(pipe, name)
            else:
                pipe.delete_adapters([name])
            if _adapters(pipe):
                pipe.disable_lora()  # a training's adapter (or the zeroed slot) stays off


def _adapters(pipe: Any) -> list[str]:
    try:
        return [a for names in pipe.get_list_adapters().values() for a in names]
    except Exception:
        return []


def _zero_slot(pipe: Any, name: str) -> None:
    """Overwrite the hotswap slot's LoRA weights with zeros (no recompilation)."""
    import torch

    with torch.no_grad():
        for module_name, module in pipe.components.items():
            if not isinstance(module, torch.nn.Module) or module_name == "vae":
                continue
            for param_name, param in module.named_parameters():
                if f".{name}." in param_name and "lora_" in param_name:
                    param.zero_()


@contextmanager
def on_gpu(runtime: Models, lora: PersonalLora | None) -> Iterator[None]:
    """The GPU lock, with the order's LoRA on while it is held (see the docstring)."""
    with runtime.gpu_lock:
        if lora is None:
            yield
            return
        lora.on()
        try:
            yield
        finally:
            lora.off()
