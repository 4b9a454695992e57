"""A training job's checkpoint in Redis: worker-to-worker state, never pickle.

One hash under :func:`sitter.contract.train_checkpoint_key`: ``tensors`` (safetensors
bytes of the LoRA and the optimizer's moments), ``state`` (JSON: the step, the
optimizer's scalars and the request's fingerprint, so a checkpoint is only ever
resumed by the job it belongs to). It is written only while the job still exists (one
Lua script checks arq's job key and writes), so a job dropped while it trains can never
leave a checkpoint behind its drop; the job deletes it when it ends, the bot's
``drop_training`` when it drops the job. A TTL ends one left by a job that never ran
again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from engine.training.loop import Checkpoint
from sitter import contract as c

TTL_S = 24 * 3600

_WRITE_IF_WANTED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'tensors', ARGV[1], 'state', ARGV[2])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
return 1
"""


def fingerprint(req: c.TrainRequest, family: str, model: str) -> str:
    """What must match for a checkpoint to be resumed: the request and the base model."""
    h = hashlib.sha256()
    for photo in req.photos:
        h.update(hashlib.sha256(photo.image).digest())
    h.update(json.dumps([req.train_id, req.steps, req.rank, req.seed, family, model]).encode())
    return h.hexdigest()


class CheckpointStore:
    """Read, write and delete one job's checkpoint with a synchronous Redis client
    (the training runs in a worker thread)."""

    def __init__(self, redis: Any, prefix: str, job_id: str, print_: str) -> None:
        from arq.constants import job_key_prefix

        self.redis = redis
        self.key = c.train_checkpoint_key(prefix, job_id)
        self.job_key = job_key_prefix + job_id
        self.print = print_
        self.writes = 0

    def save(self, ckpt: Checkpoint) -> bool:
        """True when written (False: the job is gone, dropped while it trained)."""
        from safetensors.torch import save

        blob = save(ckpt.tensors)
        state = json.dumps({**ckpt.state, "fingerprint": self.print})
        wrote = self.redis.eval(_WRITE_IF_WANTED, 2, self.job_key, self.key, blob, state, TTL_S)
        self.writes += int(bool(wrote))
        return bool(wrote)

    def load(self) -> Checkpoint | None:
        """The job's last checkpoint, or None (none, another request's, or unreadable)."""
        from safetensors.torch import load

        raw = self.redis.hgetall(self.key)
        if not raw:
            return None
        try:
            state = json.loads(raw[b"state"])
            if state.get("fingerprint") != self.print:
                return None
            return Checkpoint(int(state["step"]), load(raw[b"tensors"]), state)
        except Exception:
            return None

    def delete(self) -> None:
        self.redis.delete(self.key)
