"""The ``train_personal`` job: a person's photos in, their LoRA out.

The family's trainer (``Family.trainer``) and the shared loop (engine/training/loop.py)
do the learning; this module adds what a queued job needs: live progress (stage
"train", step of steps, time left), a checkpoint in Redis every
``SITTER_TRAIN_CHECKPOINT_EVERY`` steps (engine/training/checkpoint.py) from which a
job that arq runs again after its worker died resumes, and fairness to the queue: on
a worker that also serves the gpu queue, the loop waits between two steps while any
order is queued or rendering there, so an order waits at most one training step plus
the switch (SITTER_TRAIN_MODE: shared, the default, or dedicated trainers that never
wait). The checkpoint is deleted when the job ends, whichever way, except when it
stops for a worker shutdown or kill (arq runs it again: it resumes).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from engine import job_context, progress
from engine.job_errors import FailureCode, Permanent
from engine.parts import Models
from engine.pipeline.loaded import Cancelled
from engine.training.base import NotTrainable, Trainer
from engine.training.checkpoint import CheckpointStore, fingerprint
from engine.training.data import pictures
from engine.training.loop import Hooks, Trained, encode, train_lora
from sitter import contract as c

log = logging.getLogger(__name__)

YIELD_POLL_S = 0.02  # how often a yielding training looks whether orders still wait


def trainer_for(rt: Models) -> Trainer:
    loaded = rt.require_pipeline()
    try:
        return loaded.model_family.trainer(loaded)
    except NotTrainable as exc:
        raise Permanent(FailureCode.NOT_SUPPORTED, str(exc)) from None


def lora_bytes(trained: Trained, metadata: dict[str, str]) -> bytes:
    """The LoRA as a safetensors file (diffusers' format for its family), in bfloat16:
    it travels with every order of its person (a rank-16 klein 4B LoRA: tens of MB)."""
    import torch
    from safetensors.torch import save

    half = {k: v.to(torch.bfloat16).contiguous() for k, v in trained.lora.items()}
    return save(half, metadata={"format": "pt", **metadata})


class _Fair:
    """Waits between steps while the gpu queue has jobs (queued or running)."""

    def __init__(self, redis: Any, prefix: str, cancel: threading.Event | None) -> None:
        self.redis, self.queue = redis, c.queue_name(prefix, c.QUEUE_GPU)
        self.cancel = cancel
        self.yielded_s = 0.0
        self.pauses = 0

    def __call__(self, step: int) -> None:
        t0 = time.perf_counter()
        waited = False
        while int(self.redis.zcard(self.queue)) > 0:
            if self.cancel is not None and self.cancel.is_set():
                raise Cancelled("training cancelled")
            waited = True
            time.sleep(YIELD_POLL_S)
        if waited:
            self.pauses += 1
            self.yielded_s += time.perf_counter() - t0


def train_personal(
    rt: Models, req: c.TrainRequest, cancel: threading.Event | None = None
) -> c.TrainResult:
    from engine.licences import personal_model_part

    started = time.perf_counter()
    trainer = trainer_for(rt)
    loaded = trainer.loaded
    steps = req.steps or trainer.default_steps
    try:
        pics = pictures(req.photos, trainer.side())
    except ValueError as exc:
        raise Permanent(FailureCode.BAD_IMAGE, str(exc)) from None
    job = job_context.current()
    redis = store = None
    settings = job.settings if job is not None and job.settings is not None else rt.settings
    hooks = Hooks(every=settings.train_checkpoint_every)
    if job is not None:
        from redis import Redis

        redis = Redis.from_url(job.redis_url, socket_timeout=10, socket_connect_timeout=10)
        store = CheckpointStore(
            redis, job.prefix, job.job_id, fingerprint(req, loaded.family, loaded.model)
        )
        hooks.checkpoint = store.save
        if c.QUEUE_GPU in job.serves:
            hooks.wait = _Fair(redis, job.prefix, cancel)
    clock: dict[str, float] = {"t0": time.perf_counter(), "first": 0}

    def done(step: int, loss: float) -> None:
        ran = max(1, step - clock["first"])
        per = (time.perf_counter() - clock["t0"]) / ran
        progress.training(step, steps, per * (steps - step))

    hooks.done = done
    keep = False
    try:
        resume = store.load() if store is not None else None
        clock["first"] = resume.step if resume is not None else 0
        if resume is not None:
            log.info("training resumes from its checkpoint at step %d", resume.step)
        progress.training(int(clock["first"]), steps, None)
        with rt.gpu_lock:
            samples = encode(trainer, [p.image for p in pics], [p.caption for p in pics])
        trained = train_lora(
            trainer,
            samples,
            steps=steps,
            rank=req.rank,
            seed=req.seed,
            lock=rt.gpu_lock,
            cancel=cancel,
            hooks=hooks,
            resume=resume,
        )
    except Cancelled:
        # Dropped (its arq job is gone): leave nothing. A shutdown or time limit: arq
        # runs it again, so the checkpoint stays for it (its TTL ends it otherwise).
        keep = redis is not None and job is not None and _job_exists(redis, job.job_id)
        raise
    finally:
        if store is not None and not keep:
            store.delete()
        if redis is not None:
            redis.close()
    part = personal_model_part(rt.settings)
    meta = {"sitter_family": loaded.family, "sitter_base_model": loaded.model}
    lora = lora_bytes(trained, meta)
    return c.TrainResult(
        train_id=req.train_id,
        lora=lora,
        sha256=hashlib.sha256(lora).hexdigest(),
        steps=trained.steps,
        resumed_from=trained.resumed_from,
        family=loaded.family,
        base_model=loaded.model,
        licence=part.licence,
        commercial_ok=part.commercial_ok,
        seconds=round(time.perf_counter() - started, 3),
    )


def _job_exists(redis: Any, job_id: str) -> bool:
    from arq.constants import job_key_prefix

    try:
        return bool(redis.exists(job_key_prefix + job_id))
    except Exception:
        return True  # Redis unreachable: keep it (its TTL ends it)
