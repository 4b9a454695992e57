"""The shared training loop: a LoRA on any family's denoiser (its :class:`Trainer`).

Latents and caption features are computed once, before the first step. Each step
takes the GPU lock (``lock``, the worker's ``gpu_lock``), turns the training adapter
on, runs one sample's loss, steps AdamW and turns the adapter off again, so an order
rendered between two steps never sees it (an order's own personal model is turned on
by engine/pipeline/personal.py the same way). Between steps ``hooks.wait`` may hold
the loop while orders wait (engine/training/job.py: fair to the queue) and
``hooks.checkpoint`` receives the LoRA and optimizer state every ``hooks.every``
steps. The noise of step ``n`` comes from ``(seed, n)`` and the sample order from
``(seed, epoch)``, so a run resumed from a checkpoint goes on as it would have.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from engine.pipeline.loaded import Cancelled
from engine.training.base import TRAIN_ADAPTER, Sample, Trainer

MAX_GRAD_NORM = 1.0
LORA = "lora::"  # checkpoint tensor names: the LoRA's peft keys ...
OPT = "opt::"  # ... and the optimizer's moments, by parameter index


@dataclass
class Checkpoint:
    """Worker-to-worker state: tensors (safetensors) and plain numbers (JSON)."""

    step: int
    tensors: dict[str, Any]
    state: dict[str, Any]


@dataclass
class Hooks:
    wait: Callable[[int], None] = lambda step: None  # before a step, outside the lock
    done: Callable[[int, float], None] = lambda step, loss: None  # after step n (1-based)
    checkpoint: Callable[[Checkpoint], object] | None = None
    every: int = 50


@dataclass
class Trained:
    lora: dict[str, Any]  # the family's diffusers format (prefixed keys), on the CPU
    steps: int
    resumed_from: int
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _sample_order(n: int, seed: int, step: int) -> int:
    epoch, at = divmod(step, n)
    order = list(range(n))
    random.Random(seed * 7919 + epoch).shuffle(order)
    return order[at]


def encode(trainer: Trainer, pictures: Sequence[Any], captions: Sequence[str]) -> list[Sample]:
    """Every picture's latents and caption's features, once (no grad)."""
    import torch

    with torch.no_grad():
        texts = trainer.encode_text(list(captions))
        latents = trainer.encode_images(list(pictures))
    return [Sample(lat, txt) for lat, txt in zip(latents, texts, strict=True)]


def _lora_params(denoiser: Any) -> list[Any]:
    return [p for n, p in denoiser.named_parameters() if f".{TRAIN_ADAPTER}." in n]


def train_lora(
    trainer: Trainer,
    samples: list[Sample],
    *,
    steps: int,
    rank: int,
    seed: int,
    lock: AbstractContextManager[Any] | threading.Lock,
    cancel: threading.Event | None = None,
    hooks: Hooks | None = None,
    resume: Checkpoint | None = None,
    fixed_batch: bool = False,
) -> Trained:
    """Train ``steps`` steps (from ``resume.step`` when given) and return the LoRA; the
    denoiser is left as it was (the training adapter deleted), whatever happens.
    ``fixed_batch``: every step the same sample, noise and timestep (a fixed batch: how
    a test sees the loss fall within a few steps)."""
    import torch
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict, set_peft_model_state_dict

    hooks = hooks or Hooks()
    started = time.perf_counter()
    den = trainer.denoiser
    config = LoraConfig(
        r=rank,
        lora_alpha=rank,  # scale 1: the loader's default alpha (= rank) reads it the same
        init_lora_weights="gaussian",
        target_modules=trainer.target_modules(),
    )
    # One hold of the GPU lock from the adapter's birth (peft makes it the active one)
    # to its switching off: an order rendered in between would otherwise be painted
    # with it — after a resume, with what was learned of another person.
    with lock:
        den.add_adapter(config, adapter_name=TRAIN_ADAPTER)
        try:
            params = _lora_params(den)
            for p in params:
                p.data = p.data.float()  # trained in float32 whatever the pipeline's dtype
                p.requires_grad_(True)
            opt = torch.optim.AdamW(params, lr=trainer.lr, weight_decay=1e-4)
            first = 0
            if resume is not None:
                first = _restore(den, opt, params, resume, set_peft_model_state_dict)
            den.disable_adapters()
        except BaseException:
            _drop_adapter(den)
            raise
    try:
        losses: list[float] = []
        for step in range(first, steps):
            if cancel is not None and cancel.is_set():
                raise Cancelled("training cancelled")
            hooks.wait(step)
            with lock:
                den.enable_adapters()
                den.set_adapter(TRAIN_ADAPTER)
                for p in params:
                    p.requires_grad_(True)
                try:
                    at = 0 if fixed_batch else step
                    sample = samples[_sample_order(len(samples), seed, at)]
                    gen = torch.Generator("cpu").manual_seed(seed * 1_000_003 + at)
                    with torch.enable_grad():
                        loss = trainer.loss(sample, gen)
                        loss.backward()
                    torch.nn.utils.clip_grad_norm_(params, MAX_GRAD_NORM)
                    opt.step()
                    opt.zero_grad(set_to_none=True)
                finally:
                    den.disable_adapters()
            losses.append(float(loss.detach()))
            hooks.done(step + 1, losses[-1])
            if hooks.checkpoint is not None and (step + 1) % hooks.every == 0 and step + 1 < steps:
                hooks.checkpoint(_snapshot(den, opt, params, step + 1, get_peft_model_state_dict))
        state = get_peft_model_state_dict(den, adapter_name=TRAIN_ADAPTER)
        lora = {k: _cpu(v) for k, v in state.items()}
    finally:
        with lock:
            _drop_adapter(den)
    return Trained(
        lora=trainer.to_diffusers(lora),
        steps=steps,
        resumed_from=first,
        losses=losses,
        seconds=time.perf_counter() - started,
    )


def _drop_adapter(den: Any) -> None:
    """The training adapter deleted; another adapter (an order's) stays off."""
    den.delete_adapters(TRAIN_ADAPTER)
    if getattr(den, "peft_config", None):
        den.disable_adapters()


def _cpu(t: Any) -> Any:
    import torch

    return t.detach().to("cpu", torch.float32).contiguous().clone()


def _snapshot(den: Any, opt: Any, params: list[Any], step: int, peft_state: Any) -> Checkpoint:

    tensors: dict[str, Any] = {}
    for k, v in peft_state(den, adapter_name=TRAIN_ADAPTER).items():
        tensors[LORA + k] = _cpu(v)
    sd = opt.state_dict()
    opt_steps: dict[str, float] = {}
    for i, st in sd["state"].items():
        tensors[f"{OPT}{i}::exp_avg"] = st["exp_avg"].detach().cpu().contiguous().clone()
        tensors[f"{OPT}{i}::exp_avg_sq"] = st["exp_avg_sq"].detach().cpu().contiguous().clone()
        opt_steps[str(i)] = float(st["step"])
    groups = [{k: v for k, v in g.items() if k != "params"} for g in sd["param_groups"]]
    state = {"step": step, "params": len(params), "opt_steps": opt_steps, "groups": groups}
    return Checkpoint(step, tensors, state)


def _restore(den: Any, opt: Any, params: list[Any], ckpt: Checkpoint, set_state: Any) -> int:
    import torch

    lora = {k[len(LORA) :]: v for k, v in ckpt.tensors.items() if k.startswith(LORA)}
    set_state(den, lora, adapter_name=TRAIN_ADAPTER)
    for p in params:
        p.data = p.data.float()
    if int(ckpt.state.get("params", -1)) != len(params):
        raise ValueError("the checkpoint is of another LoRA shape")
    device = params[0].device if params else "cpu"
    state = {
        int(i): {
            "step": torch.tensor(float(s)),
            "exp_avg": ckpt.tensors[f"{OPT}{i}::exp_avg"].to(device),
            "exp_avg_sq": ckpt.tensors[f"{OPT}{i}::exp_avg_sq"].to(device),
        }
        for i, s in ckpt.state["opt_steps"].items()
    }
    groups = [{**g, "params": list(range(len(params)))} for g in ckpt.state["groups"]]
    for g in groups:
        if isinstance(g.get("betas"), list):
            g["betas"] = tuple(g["betas"])
    opt.load_state_dict({"state": state, "param_groups": groups})
    return int(ckpt.step)
